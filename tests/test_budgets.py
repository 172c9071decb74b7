"""Monthly budgets: atomic reservations under 50 concurrent requests on PostgreSQL and SQLite, settling, Retry-After."""

from __future__ import annotations

import random
import threading
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from backend.database import Base, build_engine
from backend.metering.budgets import (
    BudgetExhausted,
    Budgets,
    max_call_micros,
    period_of,
    seconds_until_next_month,
)
from backend.models.accounting import BudgetCounter
from backend.providers.base import ModelSpec

MODEL = ModelSpec(
    provider="openai-main",
    id="gpt-4.1",
    context_window=128_000,
    max_output_tokens=16_384,
    price_in_per_million=Decimal("2.00"),
    price_out_per_million=Decimal("8.00"),
)
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def budgets(request, tmp_path):
    """Budgets on a fresh database of each kind."""
    url = request.getfixturevalue("postgres_url") if request.param == "postgres" else f"sqlite:///{tmp_path}/b.db"
    engine = build_engine(url, autocommit=True)  # as the app gives them: db.autocommit_engine
    Base.metadata.create_all(engine, tables=[BudgetCounter.__table__])  # named: nothing imports its model here
    yield Budgets(engine)
    engine.dispose()


def test_the_estimate_is_the_maximum_cost_of_the_call():
    # 10,000 prompt tokens at 2 USD/M + 5,000 output tokens at 8 USD/M = 0.02 + 0.04 USD
    assert max_call_micros(MODEL, 10_000, 5_000) == 60_000


def test_reserve_then_settle_keeps_the_actual_cost(budgets):
    limits = {"tenant_monthly_usd": 1.0, "user_monthly_usd": 0.5}
    held = budgets.reserve("t1", "u1", 60_000, limits, now=NOW)
    assert budgets.usage("t1", period="2026-11", now=NOW) == {"spent_usd": Decimal(0), "reserved_usd": Decimal("0.06")}
    budgets.settle(held, Decimal("0.0125"))
    expected = {"spent_usd": Decimal("0.0125"), "reserved_usd": Decimal(0)}
    assert budgets.usage("t1", period="2026-11", now=NOW) == expected
    assert budgets.usage("t1", "u1", period="2026-11", now=NOW)["spent_usd"] == Decimal("0.0125")


def test_an_exhausted_budget_is_a_429_with_retry_after_next_month(budgets):
    limits = {"tenant_monthly_usd": 10.0, "user_monthly_usd": 0.1}
    budgets.settle(budgets.reserve("t1", "u1", 90_000, limits, now=NOW), Decimal("0.09"))
    with pytest.raises(BudgetExhausted) as caught:
        budgets.reserve("t1", "u1", 20_000, limits, now=NOW)
    error = caught.value
    assert (error.status, error.code, error.details) == (429, "budget_exhausted", {"scope": "user"})
    assert error.headers["Retry-After"] == str(2 * 86_400 + 12 * 3_600)  # until 2026-12-01T00:00Z
    # the failed user reservation rolled back the tenant's hold too
    assert budgets.usage("t1", period="2026-11", now=NOW)["reserved_usd"] == 0
    budgets.reserve("t1", "u2", 20_000, limits, now=NOW)  # another user of the same tenant still may
    december = datetime(2026, 12, 1, 0, 0, 1, tzinfo=UTC)
    budgets.reserve("t1", "u1", 20_000, limits, now=december)  # a new month starts from zero


def test_no_limit_configured_still_counts_spend(budgets):
    budgets.settle(budgets.reserve("t1", "u1", 5_000_000, {}, now=NOW), Decimal(3))
    assert budgets.usage("t1", period="2026-11", now=NOW)["spent_usd"] == Decimal(3)


def test_calendar_month_helpers():
    assert period_of(datetime(2026, 12, 31, 23, 59, tzinfo=UTC)) == "2026-12"
    assert seconds_until_next_month(datetime(2026, 12, 31, 23, 59, 30, tzinfo=UTC)) == 30
    assert seconds_until_next_month(datetime(2027, 1, 1, tzinfo=UTC)) == 31 * 86_400


def test_fifty_parallel_requests_never_push_spend_past_budget_plus_one_request(budgets):
    """A tenant close to its budget; 50 threads reserve, hold a while, and settle at or a bit above the estimate."""
    limits = {"tenant_monthly_usd": 1.0}
    budgets.settle(budgets.reserve("t1", "seed", 800_000, {}), Decimal("0.80"))  # 0.20 USD left
    estimate = max_call_micros(MODEL, 10_000, 5_000)  # 0.06 USD per request at most
    start = threading.Barrier(50)
    outcomes: list[str] = []

    def one_request(seed: int) -> None:
        """Reserve, hold, settle; or note the refusal."""
        rng = random.Random(seed)
        start.wait()
        try:
            held = budgets.reserve("t1", f"user{seed % 7}", estimate, limits)
        except BudgetExhausted:
            outcomes.append("exhausted")
            return
        time.sleep(rng.uniform(0, 0.02))  # calls overlap
        # a provider may count a few more prompt tokens than our tokenizer: up to 10% over the estimate
        budgets.settle(held, Decimal(estimate) * Decimal(str(rng.uniform(0.5, 1.1))) / 1_000_000)
        outcomes.append("ok")

    threads = [threading.Thread(target=one_request, args=(i,)) for i in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    usage = budgets.usage("t1")
    assert len(outcomes) == 50 and outcomes.count("ok") >= 3  # 0.20 USD covers at least three 0.06 holds
    assert outcomes.count("exhausted") >= 40
    assert usage["reserved_usd"] == 0
    assert usage["spent_usd"] <= Decimal("1.00") + Decimal(estimate) / 1_000_000


def test_a_hold_never_settled_stops_counting_two_windows_later(budgets):
    """A process killed mid-call never settles: its hold stops counting after one to two BUDGET_HOLD_SECONDS windows
    (here an hour; NOW starts a window), not at the month's end."""
    limits = {"tenant_monthly_usd": 0.1}
    budgets.reserve("t1", "u1", 80_000, limits, now=NOW)  # its process dies: no settle
    for later in (NOW, NOW + timedelta(minutes=119)):  # its window and the next one: a call may still be running
        with pytest.raises(BudgetExhausted):
            budgets.reserve("t1", "u2", 80_000, limits, now=later)
        assert budgets.usage("t1", period="2026-11", now=later)["reserved_usd"] == Decimal("0.08")
    later = NOW + timedelta(minutes=120)
    assert budgets.usage("t1", period="2026-11", now=later) == {"spent_usd": Decimal(0), "reserved_usd": Decimal(0)}
    assert budgets.usage("t1", "u1", period="2026-11", now=later)["reserved_usd"] == 0
    held = budgets.reserve("t1", "u2", 80_000, limits, now=later)  # the room is back
    assert budgets.usage("t1", period="2026-11", now=later)["reserved_usd"] == Decimal("0.08"), "counted once"
    budgets.settle(held, Decimal("0.01"))
    assert budgets.usage("t1", period="2026-11", now=later) == {"spent_usd": Decimal("0.01"), "reserved_usd": 0}


def test_a_call_that_outlives_its_hold_is_charged_and_takes_nothing_from_newer_holds(budgets):
    old = budgets.reserve("t1", "u1", 60_000, {}, now=NOW)
    newer = budgets.reserve("t1", "u1", 30_000, {}, now=NOW + timedelta(hours=2))  # the same slot, started afresh
    budgets.settle(old, Decimal("0.05"))  # the long call ends after all
    at = NOW + timedelta(hours=2)
    assert budgets.usage("t1", period="2026-11", now=at) == {
        "spent_usd": Decimal("0.05"),
        "reserved_usd": Decimal("0.03"),
    }
    budgets.settle(newer, Decimal("0.01"))
    assert budgets.usage("t1", "u1", period="2026-11", now=at) == {"spent_usd": Decimal("0.06"), "reserved_usd": 0}


def test_holds_of_consecutive_windows_count_together_and_settle_to_zero(budgets):
    """Calls reserved just before and just after a window starts each count, and each settlement releases its own."""
    limits = {"tenant_monthly_usd": 0.1}
    first = budgets.reserve("t1", "u1", 40_000, limits, now=NOW - timedelta(seconds=1))
    second = budgets.reserve("t1", "u2", 40_000, limits, now=NOW)
    with pytest.raises(BudgetExhausted):
        budgets.reserve("t1", "u3", 40_000, limits, now=NOW + timedelta(minutes=30))
    assert budgets.usage("t1", period="2026-11", now=NOW)["reserved_usd"] == Decimal("0.08")
    budgets.settle(first, Decimal("0.02"))
    budgets.settle(second, Decimal("0.03"))
    for at in (NOW, NOW + timedelta(hours=5)):
        assert budgets.usage("t1", period="2026-11", now=at) == {"spent_usd": Decimal("0.05"), "reserved_usd": 0}


def test_a_budget_lowered_below_the_spend_refuses_every_call_and_removing_it_lifts_it(budgets):
    budgets.settle(budgets.reserve("t1", "u1", 50_000, {"tenant_monthly_usd": 1.0}, now=NOW), Decimal("0.05"))
    for lowered in ({"tenant_monthly_usd": 0.01}, {"tenant_monthly_usd": 0.0}, {"user_monthly_usd": 0.04}):
        with pytest.raises(BudgetExhausted) as caught:
            budgets.reserve("t1", "u1", 0, lowered, now=NOW)  # even a free call: the month's budget is spent
        assert caught.value.details == {"scope": next(iter(lowered))[: -len("_monthly_usd")]}
    assert budgets.usage("t1", period="2026-11", now=NOW)["reserved_usd"] == 0  # nothing held by the refusals
    budgets.settle(budgets.reserve("t1", "u1", 10_000, {}, now=NOW), Decimal("0.01"))  # removed: no limit
    assert budgets.usage("t1", period="2026-11", now=NOW)["spent_usd"] == Decimal("0.06")


def test_a_call_over_the_month_boundary_is_charged_to_the_month_it_started_in(budgets):
    limits = {"user_monthly_usd": 0.1}
    held = budgets.reserve("t1", "u1", 90_000, limits, now=datetime(2026, 11, 30, 23, 59, 59, tzinfo=UTC))
    december = datetime(2026, 12, 1, 0, 0, 5, tzinfo=UTC)
    budgets.reserve("t1", "u1", 90_000, limits, now=december)  # December starts empty, the November hold apart
    budgets.settle(held, Decimal("0.08"))
    assert budgets.usage("t1", "u1", period="2026-11", now=december)["spent_usd"] == Decimal("0.08")
    assert budgets.usage("t1", "u1", period="2026-12", now=december) == {
        "spent_usd": Decimal(0),
        "reserved_usd": Decimal("0.09"),
    }
