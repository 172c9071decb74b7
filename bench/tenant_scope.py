"""What tenant scoping costs a simple ORM query: its loader criteria built for every statement or once per tenant.

backend/tenancy.py adds `with_loader_criteria(model, lambda cls: cls.tenant_id == tenant)` for every tenant model
to each ORM statement of a scoped request. Building those options cost more than the rest of a simple query; they
are now built once per tenant and reused (`_scope_options`). This compares, in one run, a scoped `session.get` plus
a filtered query with the options rebuilt for every statement (the cache emptied before each, as before) and with
them reused, on SQLite in a temp folder.

    .venv/bin/python bench/tenant_scope.py [--rounds 3] [--queries 3000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time


def main() -> None:
    """Alternate the two ways for a few rounds; print microseconds per get-plus-query."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--queries", type=int, default=3000)
    args = parser.parse_args()
    instance = tempfile.mkdtemp(prefix="sb-scope-")
    os.environ["SWITCHBOARD_INSTANCE_PATH"] = instance
    from backend import create_app
    from backend.database import Base
    from backend.extensions import db
    from backend.models import Tenant, User
    from backend.tenancy import _scope_options, tenant_scope

    app = create_app({"DATABASE_URL": f"sqlite:///{instance}/bench.db"})
    with app.app_context(), tenant_scope("t1"):
        Base.metadata.create_all(db.engine)
        db.session.add(Tenant(id="t1", name="Bench", status="active"))
        db.session.commit()

        def get_and_query(rebuild: bool) -> None:
            if rebuild:
                _scope_options.cache_clear()
            db.session.get(Tenant, "t1")
            db.session.expire_all()
            if rebuild:
                _scope_options.cache_clear()
            db.session.query(User).filter_by(object_id="x").first()

        results: dict[str, list[float]] = {"rebuilt per statement": [], "built once per tenant": []}
        for _ in range(args.rounds):
            for name, rebuild in (("rebuilt per statement", True), ("built once per tenant", False)):
                for _ in range(200):
                    get_and_query(rebuild)
                started = time.perf_counter()
                for _ in range(args.queries):
                    get_and_query(rebuild)
                results[name].append((time.perf_counter() - started) / args.queries * 1e6)
    for name, values in results.items():
        rounds = ", ".join(f"{v:.0f}" for v in values)
        print(f"{name:<22} median {statistics.median(values):6.0f} µs per get + query (rounds: {rounds})")


if __name__ == "__main__":
    main()
