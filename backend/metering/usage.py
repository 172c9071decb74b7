"""Metering: one SkillRun per call (tokens, cost, timings, model, outcome, routing; never document text), and the
aggregates behind `GET /api/admin/usage?from=&to=&group_by=user|skill|model|day`."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Dialect, Engine, case, func, null, select

from backend.metering.store import driver_sql
from backend.models.runs import SkillRun
from backend.models.tenancy import User
from backend.providers.base import ModelSpec, Usage

GROUP_BY = ("user", "skill", "model", "day")
MICROS_PER_USD = 1_000_000


@dataclass
class RunRecord:
    """What is known about one finished (or failed) call."""

    tenant_id: str
    user_id: str
    skill_id: str
    model: ModelSpec | None = None
    usage: Usage | None = None
    time_to_first_token_ms: int | None = None
    latency_ms: int | None = None
    outcome: str = "succeeded"  # succeeded | failed | interrupted | rejected
    error_code: str | None = None
    routing: dict[str, Any] | None = None
    job_id: str | None = None
    location: str | None = None

    @property
    def cost_usd(self) -> Decimal:
        """Cost from the model's prices and the normalised token counts."""
        if self.model is None or self.usage is None:
            return Decimal(0)
        return self.model.cost_usd(self.usage.input_tokens, self.usage.output_tokens).quantize(Decimal("0.000001"))


def record_run(engine: Engine, record: RunRecord, run_id: str | None = None) -> str:
    """Insert the SkillRun of one call and return its id (on the autocommit engine: one statement, one round trip)."""
    from backend.models.columns import new_id, utcnow

    run_id = run_id or new_id()
    owner = {"tenant_id": record.tenant_id, "user_id": record.user_id, "job_id": record.job_id}
    values = {"id": run_id, **owner, **skill_run_fields(record), "created_at": utcnow()}
    with engine.begin() as conn:
        sql, processors = _insert_plan(conn.dialect)
        params = {name: process(values[name]) if process else values[name] for name, process in processors}
        conn.exec_driver_sql(sql, params)
    return run_id


@functools.cache
def _insert_plan(dialect: Dialect) -> tuple[str, tuple[tuple[str, Callable[[Any], Any] | None], ...]]:
    """The SkillRun INSERT as the driver's SQL, with each column's bind processor for this dialect (SQLAlchemy's
    own conversion of the column type: JSON to text, a datetime or a Decimal as the driver stores it).

    Run through `exec_driver_sql`, as the counter statements are (backend/metering/store.run_counter_statement):
    one is inserted per model call, and SQLAlchemy's execution of the compiled statement cost twice the database's
    own work (docs/performance.md). Every column is given, so no column default is left to SQLAlchemy.
    """
    columns = list(SkillRun.__table__.columns)
    names = ", ".join(f'"{column.name}"' for column in columns)
    values = ", ".join(f":{column.name}" for column in columns)
    insert = f"INSERT INTO {SkillRun.__tablename__} ({names}) VALUES ({values})"  # noqa: S608 - our identifiers
    sql = driver_sql(insert, dialect.name)
    processors = tuple((column.name, column.type.dialect_impl(dialect).bind_processor(dialect)) for column in columns)
    return sql, processors


def skill_run_fields(record: RunRecord) -> dict[str, Any]:
    """The SkillRun columns of a finished call, except its id and its owners (tenant, user, job)."""
    usage = record.usage or Usage()
    return {
        "skill_id": record.skill_id,
        "provider": record.model.provider if record.model else None,
        "model": record.model.id if record.model else None,
        "location": record.location or (record.model.location if record.model else None),
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "cost_usd": record.cost_usd,
        "time_to_first_token_ms": record.time_to_first_token_ms,
        "latency_ms": record.latency_ms,
        "outcome": record.outcome,
        "error_code": record.error_code,
        "routing": record.routing or {},
    }


def group_column(engine: Engine, group_by: str):
    """The SQL expression a usage report is grouped by."""
    if group_by == "user":
        return SkillRun.user_id
    if group_by == "skill":
        return SkillRun.skill_id
    if group_by == "model":  # a call that failed before any model answered has none: null, not "/"
        named = func.coalesce(SkillRun.provider, "") + "/" + func.coalesce(SkillRun.model, "")
        return case((SkillRun.provider.is_(None), null()), else_=named)
    if group_by == "day":
        if engine.dialect.name == "postgresql":
            # date() of a timestamptz is the day in the session's TimeZone, which is the server's unless set: the
            # UTC day, as the report's range is, whatever the server's zone.
            return func.date(func.timezone("UTC", SkillRun.created_at))
        return func.date(SkillRun.created_at)  # SQLite keeps the UTC time as text
    raise ValueError(f"group_by must be one of {list(GROUP_BY)}")


def usage_report(engine: Engine, tenant_id: str, start: datetime, end: datetime, group_by: str) -> dict[str, Any]:
    """Requests, tokens and cost of a tenant's runs in [start, end): one row per group (days in date order, other
    groups largest cost first) and their totals, cost summed exactly in micro-dollars."""
    key = group_column(engine, group_by).label("key")
    statement = (
        select(
            key,
            func.count().label("requests"),
            func.coalesce(func.sum(SkillRun.input_tokens), 0).label("input_tokens"),
            func.coalesce(func.sum(SkillRun.output_tokens), 0).label("output_tokens"),
            # Summed as integer micro-dollars: exact on every database, no float rounding on SQLite.
            func.coalesce(func.sum(func.round(SkillRun.cost_usd * MICROS_PER_USD)), 0).label("cost_micros"),
        )
        .where(SkillRun.tenant_id == tenant_id, SkillRun.created_at >= start, SkillRun.created_at < end)
        .group_by(key)
    )
    if group_by == "user":  # and the user's display name: the report keys users by their Switchboard id
        statement = statement.add_columns(func.max(User.display_name).label("name"))
        statement = statement.outerjoin(User, (User.id == SkillRun.user_id) & (User.tenant_id == SkillRun.tenant_id))
    with engine.connect() as conn:
        results = conn.execute(statement).all()
    order = (lambda r: r.key) if group_by == "day" else (lambda r: (-r.cost_micros, r.key or ""))
    rows, sums = [], [0, 0, 0, 0]
    for result in sorted(results, key=order):
        counts = [int(n) for n in (result.requests, result.input_tokens, result.output_tokens, result.cost_micros)]
        sums = [total + n for total, n in zip(sums, counts, strict=True)]
        row = {group_by: None if result.key is None else str(result.key), **_amounts(*counts)}
        rows.append({**row, "name": result.name or ""} if group_by == "user" else row)
    return {"rows": rows, "totals": _amounts(*sums)}


def _amounts(requests: int, input_tokens: int, output_tokens: int, micros: int) -> dict[str, Any]:
    """What a row (or the totals) of the report counts, its cost in USD exact to the micro-dollar."""
    return {
        "requests": requests,
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "cost_usd": float(Decimal(micros) / MICROS_PER_USD),
    }
