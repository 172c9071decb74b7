"""Monthly budgets per tenant and per user (USD, calendar month in UTC): reserve before a call, settle after.

A reservation is the call's maximum cost (prompt tokens x input price + max output tokens x output price). It is
taken by one conditional upsert of both counters, tenant row first and user row second,
`reserved = reserved + x WHERE spent + reserved + x <= limit`, so concurrent requests in any number of processes can
never reserve past the limit; settling releases the reservation and adds the actual cost. Spend can therefore exceed
a budget only by what a call costs beyond its estimate, which is bounded by one request's maximum.

A process killed mid-call (SIGKILL, the OOM killer, a worker timeout) never settles. So that its reservations do not
stay held until the month ends, refusing calls the budget has room for, each is kept in a slot of its time window
(BUDGET_HOLD_SECONDS long) and stops counting one to two windows later (backend/metering/budget_statements.py). A
call that outlives that is still charged its actual cost when it ends.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import Connection, Engine

from backend.errors import ApiError
from backend.metering.budget_statements import (
    USAGE_STATEMENT,
    reserve_statement,
    settle_statement,
    take_back_statement,
)
from backend.metering.store import charge_all_or_none, run_counter_statement
from backend.providers.base import ModelSpec

MICROS_PER_USD = 1_000_000
NO_LIMIT = 2**62  # micro-dollars: a counter without a budget
TENANT_SCOPE = ""  # user_id of the tenant-wide counter
DEFAULT_HOLD_SECONDS = 3600.0


class BudgetExhausted(ApiError):
    """429 budget_exhausted, with Retry-After at the start of next month."""

    def __init__(self, scope: str, retry_after: int) -> None:
        message = f"The {scope} budget for this month is used up."
        headers = {"Retry-After": str(retry_after)}
        super().__init__(429, "budget_exhausted", message, details={"scope": scope}, headers=headers)


@dataclass(frozen=True)
class Reservation:
    """Money held for one call until it is settled, in the slot of its time window."""

    tenant_id: str
    user_id: str
    period: str
    micros: int
    window: int  # the time window it was reserved in (its slot is window % 2)


def period_of(now: datetime) -> str:
    """The calendar month, "YYYY-MM", in UTC."""
    return now.astimezone(UTC).strftime("%Y-%m")


def seconds_until_next_month(now: datetime) -> int:
    """Whole seconds from now until the first instant of next month (UTC), at least 1."""
    now = now.astimezone(UTC)
    first = datetime(now.year + (now.month == 12), now.month % 12 + 1, 1, tzinfo=UTC)
    return max(1, math.ceil((first - now).total_seconds()))


def usd_to_micros(amount: Decimal | float) -> int:
    """Micro-dollars, rounded up so that a reservation never under-counts."""
    return math.ceil(Decimal(str(amount)) * MICROS_PER_USD)


def max_call_micros(model: ModelSpec, prompt_tokens: int, max_output_tokens: int) -> int:
    """The most a call on this model can cost, in micro-dollars."""
    return usd_to_micros(model.cost_usd(prompt_tokens, max_output_tokens))


class Budgets:
    """Reserve and settle against the budget_counters table (on `db.autocommit_engine`: see settle)."""

    def __init__(self, engine: Engine, hold_seconds: float = DEFAULT_HOLD_SECONDS) -> None:
        self.engine = engine
        self.hold_seconds = max(float(hold_seconds), 1.0)  # a window of at least a second

    def window_of(self, now: datetime) -> int:
        """The number of the time window (BUDGET_HOLD_SECONDS long) that `now` falls in."""
        return int(now.timestamp() // self.hold_seconds)

    def reserve(
        self, tenant_id: str, user_id: str, micros: int, budgets: dict[str, float], now: datetime | None = None
    ) -> Reservation:
        """Hold `micros` on the tenant's and the user's counters, or raise BudgetExhausted and hold nothing."""
        now = now or datetime.now(UTC)
        period, window = period_of(now), self.window_of(now)
        scopes = (
            ("tenant", TENANT_SCOPE, budgets.get("tenant_monthly_usd")),
            ("user", user_id, budgets.get("user_monthly_usd")),
        )
        limits = [NO_LIMIT if limit is None else usd_to_micros(limit) for _, _, limit in scopes]
        retry_after = seconds_until_next_month(now)
        for (scope, _, _), limit in zip(scopes, limits, strict=True):  # a new row starts at the amount held
            if micros > limit:
                raise BudgetExhausted(scope, retry_after)
        keys = [{"tenant_id": tenant_id, "user_id": owner, "period": period} for _, owner, _ in scopes]
        params: dict = {"window": window}
        for i, (key, limit) in enumerate(zip(keys, limits, strict=True)):
            params.update({f"{name}_{i}": value for name, value in key.items()})
            params[f"amount_{i}"], params[f"limit_{i}"] = micros, limit
        undo = {tuple(key.values()): {**key, "amount": micros, "window": window} for key in keys}
        # Both counters in one statement, tenant row first then user row: one lock order, no deadlocks.
        slot = window % 2
        if not charge_all_or_none(self.engine, reserve_statement(slot, 2), params, take_back_statement(slot), undo):
            raise BudgetExhausted(self._exhausted_scope(tenant_id, user_id, now, micros, limits), retry_after)
        return Reservation(tenant_id, user_id, period, micros, window)

    def _exhausted_scope(self, tenant_id: str, user_id: str, now: datetime, micros: int, limits: list[int]) -> str:
        """Which counter a refused hold did not fit ("tenant" first), read after the rollback."""
        tenant, user = (self.usage(tenant_id, owner, now=now) for owner in (TENANT_SCOPE, user_id))
        held = [usd_to_micros(u["spent_usd"] + u["reserved_usd"]) for u in (tenant, user)]
        return "tenant" if held[0] + micros > limits[0] else "user"

    def settle(self, reservation: Reservation, actual_usd: Decimal | float, conn: Connection | None = None) -> None:
        """Release the reservation (unless its window's slot already moved on) and add what the call actually cost.

        On the autocommit engine, one single-row UPDATE per counter, each committed on its own: no counter row stays
        locked across a round trip. Given `conn`, it runs in that connection's transaction instead, with what else
        must be stored with the call (a job's step).
        """
        if conn is None:
            with self.engine.begin() as own:
                self.settle(reservation, actual_usd, own)
            return
        base = {
            "tenant_id": reservation.tenant_id,
            "period": reservation.period,
            "window": reservation.window,
            "held": reservation.micros,
            "actual": usd_to_micros(actual_usd),
        }
        rows = [{**base, "user_id": owner} for owner in (TENANT_SCOPE, reservation.user_id)]
        run_counter_statement(conn, settle_statement(reservation.window % 2), rows)

    def usage(
        self, tenant_id: str, user_id: str = TENANT_SCOPE, period: str | None = None, now: datetime | None = None
    ) -> dict[str, Decimal]:
        """Spent and (still counting) reserved USD of a tenant or one of its users in a month (default: this one)."""
        now = now or datetime.now(UTC)
        key = {"tenant_id": tenant_id, "user_id": user_id, "period": period or period_of(now)}
        with self.engine.connect() as conn:
            row = conn.execute(USAGE_STATEMENT, {**key, "window": self.window_of(now)}).first()
        spent, held = row or (0, 0)
        return {"spent_usd": Decimal(spent) / MICROS_PER_USD, "reserved_usd": Decimal(held) / MICROS_PER_USD}


def budgets_for(app) -> Budgets:
    """The app's Budgets on its autocommit engine."""
    from backend.extensions import db

    budgets = app.extensions.get("switchboard.budgets")
    if budgets is None:
        with app.app_context():
            hold_seconds = float(app.config["BUDGET_HOLD_SECONDS"])
            budgets = app.extensions["switchboard.budgets"] = Budgets(db.autocommit_engine, hold_seconds)
    return budgets
