"""Metering: one SkillRun per call (tokens, cost, timings, model, outcome, routing; never document text), and the
aggregates behind `GET /api/admin/usage?from=&to=&group_by=user|skill|model|day`."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Dialect, Engine, func, select

from backend.metering.store import driver_sql
from backend.models.runs import SkillRun
from backend.providers.base import ModelSpec, Usage

GROUP_BY = ("user", "skill", "model", "day")


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
    if group_by == "model":
        return func.coalesce(SkillRun.provider, "") + "/" + func.coalesce(SkillRun.model, "")
    if group_by == "day":
        return func.date(SkillRun.created_at)  # date() exists in both SQLite and PostgreSQL
    raise ValueError(f"group_by must be one of {list(GROUP_BY)}")


def usage_rows(engine: Engine, tenant_id: str, start: datetime, end: datetime, group_by: str) -> list[dict[str, Any]]:
    """Requests, tokens and cost of a tenant's runs in [start, end), one row per group, largest cost first."""
    key = group_column(engine, group_by).label("key")
    statement = (
        select(
            key,
            func.count().label("requests"),
            func.coalesce(func.sum(SkillRun.input_tokens), 0).label("input_tokens"),
            func.coalesce(func.sum(SkillRun.output_tokens), 0).label("output_tokens"),
            # Summed as integer micro-dollars: exact on every database, no float rounding on SQLite.
            func.coalesce(func.sum(func.round(SkillRun.cost_usd * 1_000_000)), 0).label("cost_micros"),
        )
        .where(SkillRun.tenant_id == tenant_id, SkillRun.created_at >= start, SkillRun.created_at < end)
        .group_by(key)
    )
    with engine.connect() as conn:
        rows = conn.execute(statement).all()
    result = [
        {
            group_by: str(row.key),
            "requests": int(row.requests),
            "input_tokens": int(row.input_tokens),
            "output_tokens": int(row.output_tokens),
            "cost_usd": float(Decimal(int(row.cost_micros)) / 1_000_000),
        }
        for row in rows
    ]
    return sorted(result, key=lambda r: (-r["cost_usd"], r[group_by]))
