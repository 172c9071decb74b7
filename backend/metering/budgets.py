"""Monthly budgets per tenant and per user (USD, calendar month in UTC): reserve before a call, settle after.

A reservation is the call's maximum cost (prompt tokens x input price + max output tokens x output price). It is
taken by one conditional UPDATE per counter, `reserved = reserved + x WHERE spent + reserved + x <= limit`, tenant
row first and user row second in one transaction, so concurrent requests in any number of processes can never
reserve past the limit; settling releases the reservation and adds the actual cost. Spend can therefore exceed a
budget only by what a call costs beyond its estimate, which is bounded by one request's maximum.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import Connection, Engine, select, update

from backend.errors import ApiError
from backend.metering.store import add_within_limit
from backend.models.accounting import BudgetCounter
from backend.providers.base import ModelSpec

MICROS_PER_USD = 1_000_000
TENANT_SCOPE = ""  # user_id of the tenant-wide counter


class BudgetExhausted(ApiError):
    """429 budget_exhausted, with Retry-After at the start of next month."""

    def __init__(self, scope: str, retry_after: int) -> None:
        message = f"The {scope} budget for this month is used up."
        headers = {"Retry-After": str(retry_after)}
        super().__init__(429, "budget_exhausted", message, details={"scope": scope}, headers=headers)


@dataclass(frozen=True)
class Reservation:
    """Money held for one call until it is settled."""

    tenant_id: str
    user_id: str
    period: str
    micros: int


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
    """Reserve and settle against the budget_counters table."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.table = BudgetCounter.__table__

    def reserve(
        self, tenant_id: str, user_id: str, micros: int, budgets: dict[str, float], now: datetime | None = None
    ) -> Reservation:
        """Hold `micros` on the tenant's and the user's counters, or raise BudgetExhausted and hold nothing."""
        now = now or datetime.now(UTC)
        period = period_of(now)
        scopes = (
            ("tenant", TENANT_SCOPE, budgets.get("tenant_monthly_usd")),
            ("user", user_id, budgets.get("user_monthly_usd")),
        )
        t = self.table.c
        with self.engine.begin() as conn:
            for scope, owner, limit_usd in scopes:  # always tenant then user: one lock order, no deadlocks
                key = {"tenant_id": tenant_id, "user_id": owner, "period": period}
                limit = None if limit_usd is None else usd_to_micros(limit_usd)
                headroom = None if limit is None else t.spent_micros + t.reserved_micros + micros <= limit
                # One upsert per counter: a new row starts at `micros`, so that case is checked here first.
                fits = limit is None or micros <= limit
                if not (fits and add_within_limit(conn, self.table, key, "reserved_micros", micros, headroom)):
                    raise BudgetExhausted(scope, seconds_until_next_month(now))  # rolls back the tenant's hold
        return Reservation(tenant_id, user_id, period, micros)

    def settle(self, reservation: Reservation, actual_usd: Decimal | float, conn: Connection | None = None) -> None:
        """Release the reservation and add what the call actually cost (0 for a call that cost nothing).

        With `conn`, inside the caller's transaction (the dispatcher records the SkillRun in the same commit).
        """
        if conn is None:
            with self.engine.begin() as own:
                return self.settle(reservation, actual_usd, own)
        actual = usd_to_micros(actual_usd)
        c = BudgetCounter
        for owner in (TENANT_SCOPE, reservation.user_id):  # tenant then user: the reserve's lock order
            conn.execute(
                update(c)
                .where(c.tenant_id == reservation.tenant_id, c.user_id == owner, c.period == reservation.period)
                .values(reserved_micros=c.reserved_micros - reservation.micros, spent_micros=c.spent_micros + actual)
            )
        return None

    def usage(self, tenant_id: str, user_id: str = TENANT_SCOPE, period: str | None = None) -> dict[str, Decimal]:
        """Spent and reserved USD of a tenant (or one of its users) in a month (default: this one)."""
        period = period or period_of(datetime.now(UTC))
        c = BudgetCounter
        with self.engine.connect() as conn:
            row = conn.execute(
                select(c.spent_micros, c.reserved_micros).where(
                    c.tenant_id == tenant_id, c.user_id == user_id, c.period == period
                )
            ).first()
        spent, reserved = row or (0, 0)
        return {"spent_usd": Decimal(spent) / MICROS_PER_USD, "reserved_usd": Decimal(reserved) / MICROS_PER_USD}


def budgets_for(app) -> Budgets:
    """The app's Budgets on its database engine."""
    from backend.extensions import db

    budgets = app.extensions.get("switchboard.budgets")
    if budgets is None:
        with app.app_context():
            budgets = app.extensions["switchboard.budgets"] = Budgets(db.engine)
    return budgets
