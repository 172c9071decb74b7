"""What a call's budget accounting costs: `Budgets.reserve` then `settle`, back to back, in one process.

Each call of the product reserves its maximum cost on the tenant's and the user's counters before it starts and
settles after it ends (backend/metering/budgets.py). This times N such pairs after a warm-up, on the autocommit engine
as the app uses it, and prints CPU and wall time per pair. Compare designs in one sitting by alternating checkouts
(`git checkout <rev> -- backend/`, run, `git checkout HEAD -- backend/`, run), as docs/performance.md does.

    .venv/bin/python bench/budgets.py                       # SQLite in a temporary folder
    .venv/bin/python bench/budgets.py --database-url postgresql+psycopg2://postgres@127.0.0.1:5432/test

The PostgreSQL run drops and recreates the budget_counters table of that database: give it a scratch database.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from decimal import Decimal

from sqlalchemy import text

import backend.models  # noqa: F401 - registers every table
from backend.database import Base, build_engine
from backend.metering.budgets import Budgets

LIMITS = {"tenant_monthly_usd": 1_000_000.0, "user_monthly_usd": 1_000_000.0}


def time_pairs(budgets: Budgets, pairs: int) -> tuple[float, float]:
    """CPU and wall microseconds per reserve + settle pair."""
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(pairs):
        budgets.settle(budgets.reserve("tenant", "user", 1_000, LIMITS), Decimal("0.0005"))
    return 1e6 * (time.process_time() - cpu) / pairs, 1e6 * (time.perf_counter() - wall) / pairs


def main() -> None:
    """Parse the options, build a fresh counter table, time the pairs."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="default: SQLite in a temporary folder")
    parser.add_argument("--pairs", type=int, default=3_000)
    options = parser.parse_args()
    url = options.database_url or f"sqlite:///{tempfile.mkdtemp()}/budgets.db"
    engine = build_engine(url, autocommit=True)
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS budget_counters"))
    Base.metadata.create_all(engine, tables=[Base.metadata.tables["budget_counters"]])
    budgets = Budgets(engine)
    time_pairs(budgets, 300)  # warm-up: statement caches, the file or connection
    cpu, wall = time_pairs(budgets, options.pairs)
    print(f"{engine.dialect.name}: reserve + settle {cpu:.0f} us CPU, {wall:.0f} us wall per call ({options.pairs})")
    engine.dispose()


if __name__ == "__main__":
    main()
