"""The SQL of budget holds: reservations kept in two time-window slots per counter, so an unsettled one expires.

A counter row keeps its spend and, in slot 0 and slot 1, what is reserved for calls in progress together with the
number of the time window (BUDGET_HOLD_SECONDS long) the slot belongs to. A call reserves in the slot of the current
window w (slot w % 2) and its settlement takes its amount back from that slot only while the slot still belongs to
w. A slot counts while its window is the current or the previous one; the first reservation of window w + 2 finds
the slot's window old and starts it from zero. So what a call reserved and never settled (its process was killed)
stops counting after one to two windows, without a row per call, a sweeper, or any statement beyond the one that
reserves and the one that settles; a call that outlives its slot is still charged its actual cost.

Statement texts are built once per slot (identifiers are ours, never user input).
"""

from __future__ import annotations

import functools

from sqlalchemy import TextClause, text

TABLE = "budget_counters"
KEY_COLUMNS = ("tenant_id", "user_id", "period")


def amount_column(slot: int) -> str:
    """The column of a slot's reserved micro-dollars."""
    return f"reserved_{slot}_micros"


def window_column(slot: int) -> str:
    """The column of the window number a slot's amount belongs to."""
    return f"reserved_{slot}_window"


def live(slot: int, prefix: str = "") -> str:
    """SQL: what a slot holds if its window is the current (:window) or the previous one, else 0."""
    return f"CASE WHEN {prefix}{window_column(slot)} >= :window - 1 THEN {prefix}{amount_column(slot)} ELSE 0 END"


@functools.cache
def reserve_statement(slot: int, rows: int) -> TextClause:
    """Reserve :amount_i on counter row i (made if missing) in `slot`, all rows in one statement, each only where
    its spend plus its live slots plus the amount stays within :limit_i; RETURNs the keys of the rows charged.

    A multi-row `INSERT ... ON CONFLICT DO UPDATE ... WHERE ... RETURNING` (PostgreSQL and SQLite 3.35+) locks the
    rows in the order given and, on the autocommit engine, commits on its own: no counter row stays locked across a
    round trip (docs/performance.md). A slot whose window is older than :window starts again from zero; one stamped
    with a later window (a replica whose clock runs a window ahead) is added to as it is, and its call's
    settlement then leaves the amount held until that slot expires: the safe side.
    """
    amount, window = amount_column(slot), window_column(slot)
    other = 1 - slot
    names = ", ".join((*KEY_COLUMNS, "spent_micros", amount, window, amount_column(other), window_column(other)))
    values = ", ".join(
        "(" + ", ".join([*(f":{name}_{i}" for name in KEY_COLUMNS), "0", f":amount_{i}", ":window", "0", "-1"]) + ")"
        for i in range(rows)
    )
    match = [" AND ".join(f"excluded.{name} = :{name}_{i}" for name in KEY_COLUMNS) for i in range(rows)]
    limit = "CASE " + " ".join(f"WHEN {m} THEN :limit_{i}" for i, m in enumerate(match)) + " END"
    row = f"{TABLE}."
    kept = f"CASE WHEN {row}{window} >= :window THEN {row}{amount} ELSE 0 END"
    used = f"{row}spent_micros + {live(slot, row)} + {live(other, row)}"
    return text(
        f"INSERT INTO {TABLE} ({names}) VALUES {values} ON CONFLICT ({', '.join(KEY_COLUMNS)})"  # noqa: S608
        f" DO UPDATE SET {amount} = {kept} + excluded.{amount},"
        f" {window} = CASE WHEN {row}{window} >= :window THEN {row}{window} ELSE :window END"
        f" WHERE {used} + excluded.{amount} <= {limit}"
        f" RETURNING {', '.join(row + name for name in KEY_COLUMNS)}"
    )


# What a counter holds for calls in progress, its two slots as they count now (:window, the current window).
HELD = f"{live(0)} + {live(1)}"
USAGE_STATEMENT = text(
    f"SELECT spent_micros, {HELD} FROM {TABLE}"  # noqa: S608 - our identifiers
    " WHERE tenant_id = :tenant_id AND user_id = :user_id AND period = :period"
)


@functools.cache
def take_back_statement(slot: int) -> TextClause:
    """Take :amount back from one row's slot, if the slot still belongs to :window (a reservation that did not fit
    on every row)."""
    amount, window = amount_column(slot), window_column(slot)
    match = " AND ".join(f"{name} = :{name}" for name in KEY_COLUMNS)
    return text(f"UPDATE {TABLE} SET {amount} = {amount} - :amount WHERE {match} AND {window} = :window")  # noqa: S608


@functools.cache
def settle_statement(slot: int) -> TextClause:
    """Add :actual to one row's spend and take :held back from its slot if the slot still belongs to :window (once
    it moved on, the amount was already dropped with it)."""
    amount, window = amount_column(slot), window_column(slot)
    match = " AND ".join(f"{name} = :{name}" for name in KEY_COLUMNS)
    return text(
        f"UPDATE {TABLE} SET {amount} = CASE WHEN {window} = :window THEN {amount} - :held ELSE {amount} END,"  # noqa: S608
        f" spent_micros = spent_micros + :actual WHERE {match}"
    )
