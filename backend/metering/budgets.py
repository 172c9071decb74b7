"""Monthly budgets per tenant and per user (USD, calendar month in UTC): reserve before a call, settle after.

A reservation is the call's maximum cost (prompt tokens x input price + max output tokens x output price). It is
taken by one conditional UPDATE per counter, `reserved = reserved + x WHERE spent + reserved + x <= limit`, tenant
row first and user row second in one transaction, so concurrent requests in any number of processes can never
reserve past the limit; settling releases the reservation and adds the actual cost. Spend can therefore exceed a
budget only by what a call costs beyond its estimate, which is bounded by one request's maximum.

Each reservation also has a row in budget_holds until it is settled. A process killed mid-call (SIGKILL, the OOM
killer, a worker timeout) never settles, so its hold would stay reserved until the month ends and refuse calls the
budget has room for; instead it expires after BUDGET_HOLD_SECONDS and each worker's sweeper releases it
(`release_expired_holds`). Deleting the row is the right to release its amount: whichever of the settlement and the
sweep deletes it releases it, once. A call that outlives its hold is still settled with its actual cost.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import Connection, Engine, select, text

from backend.errors import ApiError
from backend.metering.store import hold_within_limits, run_counter_statement
from backend.models.accounting import BudgetCounter, BudgetHold
from backend.models.columns import new_id
from backend.providers.base import ModelSpec

MICROS_PER_USD = 1_000_000
NO_LIMIT = 2**62  # micro-dollars: a counter without a budget
TABLE = BudgetCounter.__tablename__
SETTLE = text(
    "UPDATE budget_counters SET reserved_micros = reserved_micros - :held, spent_micros = spent_micros + :actual"
    " WHERE tenant_id = :tenant_id AND user_id = :user_id AND period = :period"
)
HOLD_ROW = text(
    "INSERT INTO budget_holds (id, tenant_id, user_id, period, micros, expires_at)"
    " VALUES (:id, :tenant_id, :user_id, :period, :micros, :expires_at)"
)
DELETE_HOLD_ROW = text("DELETE FROM budget_holds WHERE id = :id")
TENANT_SCOPE = ""  # user_id of the tenant-wide counter
DEFAULT_HOLD_SECONDS = 3600.0
SWEEP_BATCH = 500


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
    id: str  # of its budget_holds row


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
        self.table = BudgetCounter.__table__
        self.hold_seconds = hold_seconds

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
        keys = [{"tenant_id": tenant_id, "user_id": owner, "period": period} for _, owner, _ in scopes]
        limits = [NO_LIMIT if limit is None else usd_to_micros(limit) for _, _, limit in scopes]
        retry_after = seconds_until_next_month(now)
        for (scope, _, _), limit in zip(scopes, limits, strict=True):  # a new row starts at the amount held
            if micros > limit:
                raise BudgetExhausted(scope, retry_after)
        # Both counters in one statement, tenant row first then user row: one lock order, no deadlocks.
        if not hold_within_limits(self.engine, TABLE, keys, "reserved_micros", [micros] * 2, limits, ("spent_micros",)):
            raise BudgetExhausted(self._exhausted_scope(tenant_id, user_id, period, micros, limits), retry_after)
        # The counters first, then the hold's row: dying in between leaves the amount held (the safe side), never a
        # row whose release would take back an amount that was not added.
        reservation = Reservation(tenant_id, user_id, period, micros, new_id())
        row = {**vars(reservation), "expires_at": now.timestamp() + self.hold_seconds}
        try:
            with self.engine.begin() as conn:
                run_counter_statement(conn, HOLD_ROW, row)
        except BaseException:
            with self.engine.begin() as conn:
                self._change_counters(conn, reservation, reservation.micros, 0)
            raise
        return reservation

    def _exhausted_scope(self, tenant_id: str, user_id: str, period: str, micros: int, limits: list[int]) -> str:
        """Which counter a refused hold did not fit ("tenant" first), read after the rollback."""
        tenant, user = (self.usage(tenant_id, owner, period) for owner in (TENANT_SCOPE, user_id))
        held = [usd_to_micros(u["spent_usd"] + u["reserved_usd"]) for u in (tenant, user)]
        return "tenant" if held[0] + micros > limits[0] else "user"

    def settle(self, reservation: Reservation, actual_usd: Decimal | float, conn: Connection | None = None) -> None:
        """Release the reservation (unless the sweep already did) and add what the call actually cost.

        On the autocommit engine, the hold's DELETE and one single-row UPDATE per counter each commit on their own:
        no counter row stays locked across a round trip (see store.hold_within_limits). Given `conn`, it runs in that
        connection's transaction instead, with what else must be stored with the call (a job's step).
        """
        if conn is None:
            with self.engine.begin() as own:
                self.settle(reservation, actual_usd, own)
            return
        released = run_counter_statement(conn, DELETE_HOLD_ROW, {"id": reservation.id}).rowcount == 1
        self._change_counters(conn, reservation, reservation.micros if released else 0, usd_to_micros(actual_usd))

    def release_expired_holds(self, now: datetime | None = None) -> int:
        """Release the holds of calls that were never settled within BUDGET_HOLD_SECONDS (their process died);
        how many. Safe to run in any number of processes at once."""
        now = now or datetime.now(UTC)
        h = BudgetHold
        query = select(h.id, h.tenant_id, h.user_id, h.period, h.micros).where(h.expires_at < now.timestamp())
        released = 0
        with self.engine.begin() as conn:
            for row in conn.execute(query.limit(SWEEP_BATCH)).all():
                reservation = Reservation(row.tenant_id, row.user_id, row.period, row.micros, row.id)
                if run_counter_statement(conn, DELETE_HOLD_ROW, {"id": row.id}).rowcount == 1:
                    self._change_counters(conn, reservation, reservation.micros, 0)
                    released += 1
        return released

    @staticmethod
    def _change_counters(conn: Connection, reservation: Reservation, held: int, actual: int) -> None:
        """Take `held` off both counters' reservations and add `actual` to their spend."""
        if not held and not actual:
            return
        base = {"tenant_id": reservation.tenant_id, "period": reservation.period, "held": held, "actual": actual}
        rows = [{**base, "user_id": owner} for owner in (TENANT_SCOPE, reservation.user_id)]
        run_counter_statement(conn, SETTLE, rows)

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
    """The app's Budgets on its autocommit engine."""
    from backend.extensions import db

    budgets = app.extensions.get("switchboard.budgets")
    if budgets is None:
        with app.app_context():
            hold_seconds = float(app.config["BUDGET_HOLD_SECONDS"])
            budgets = app.extensions["switchboard.budgets"] = Budgets(db.autocommit_engine, hold_seconds)
    return budgets
