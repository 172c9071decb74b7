"""Metering: SkillRun records and the usage report grouped by user, skill, model and day, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, update

from backend import create_app
from backend.database import Base
from backend.extensions import db
from backend.metering.usage import RunRecord, record_run, usage_report
from backend.models import SkillRun, Tenant, User
from backend.providers.base import ModelSpec, Usage

MINI = ModelSpec("openai-main", "gpt-4.1-mini", 128_000, 16_384, price_in_per_million=Decimal("0.40"),
                 price_out_per_million=Decimal("1.60"), location="us-east")  # fmt: skip
LOCAL = ModelSpec("local", "gemma", 8192, 2048, location="on-prem")


@pytest.fixture
def metered(app_config, each_backend_url):
    """An app on each database with one tenant (t1) and two users, plus a second tenant (t2)."""
    app = create_app({**app_config, "DATABASE_URL": each_backend_url})
    with app.app_context():
        Base.metadata.create_all(db.engine)
        db.session.add_all([Tenant(id="t1", name="A"), Tenant(id="t2", name="B")])
        db.session.flush()
        db.session.add_all(
            [User(id="u1", tenant_id="t1", object_id="o1"), User(id="u2", tenant_id="t1", object_id="o2")]
        )
        db.session.add(User(id="x1", tenant_id="t2", object_id="o3"))
        db.session.commit()
        yield db.engine
        db.session.close()
        db.engine.dispose()


def run(user="u1", skill="summarize", model=MINI, tokens=(1000, 500), tenant="t1", **extra) -> str:
    """Record one run."""
    record = RunRecord(tenant, user, skill, model=model, usage=Usage(*tokens), **extra)
    return record_run(db.engine, record)


def test_a_run_records_tokens_cost_timings_model_and_routing(metered):
    routing = {"mode": "cost", "candidates": ["openai-main/gpt-4.1-mini"], "skipped": {"local/gemma": "data_policy"}}
    run_id = run(time_to_first_token_ms=120, latency_ms=900, routing=routing)
    row = db.session.scalars(select(SkillRun).where(SkillRun.id == run_id)).one()
    assert (row.provider, row.model, row.location) == ("openai-main", "gpt-4.1-mini", "us-east")
    assert (row.input_tokens, row.output_tokens) == (1000, 500)
    assert Decimal(str(row.cost_usd)) == Decimal("0.001200")  # 1000 x 0.40/M + 500 x 1.60/M
    assert (row.time_to_first_token_ms, row.latency_ms, row.outcome) == (120, 900, "succeeded")
    assert row.routing["skipped"] == {"local/gemma": "data_policy"}


def test_a_failed_run_keeps_its_error_code_and_no_cost(metered):
    run_id = run(model=None, tokens=(0, 0), outcome="failed", error_code="all_models_failed")
    row = db.session.scalars(select(SkillRun).where(SkillRun.id == run_id)).one()
    assert (row.outcome, row.error_code, row.model) == ("failed", "all_models_failed", None)


@pytest.mark.parametrize(
    ("group_by", "expected"),
    [
        ("user", {"u1": (2, 2000, 1000, 0.0024), "u2": (1, 300, 100, 0.0)}),
        ("skill", {"summarize": (2, 1300, 600, 0.0012), "rewrite": (1, 1000, 500, 0.0012)}),
        ("model", {"openai-main/gpt-4.1-mini": (2, 2000, 1000, 0.0024), "local/gemma": (1, 300, 100, 0.0)}),
    ],
)
def test_usage_report_groups(metered, group_by, expected):
    run()
    run(skill="rewrite")
    run(user="u2", model=LOCAL, tokens=(300, 100))
    run(tenant="t2", user="x1", tokens=(99_999, 99_999))  # another tenant's runs never count
    now = datetime.now(UTC)
    rows = usage_report(metered, "t1", now - timedelta(hours=1), now + timedelta(hours=1), group_by)["rows"]
    got = {r[group_by]: (r["requests"], r["input_tokens"], r["output_tokens"], r["cost_usd"]) for r in rows}
    assert got == expected


def test_usage_report_counts_calls_without_a_model_under_null_and_totals_exactly(metered):
    run(model=None, tokens=(0, 0), outcome="failed", error_code="all_models_failed")
    for _ in range(3):
        run(tokens=(250, 0))  # 0.0001 USD each
    now = datetime.now(UTC)
    report = usage_report(metered, "t1", now - timedelta(hours=1), now + timedelta(hours=1), "model")
    assert [(r["model"], r["requests"], r["cost_usd"]) for r in report["rows"]] == [
        ("openai-main/gpt-4.1-mini", 3, 0.0003),
        (None, 1, 0.0),
    ]
    assert report["totals"] == {"requests": 4, "input_tokens": 750, "output_tokens": 0, "cost_usd": 0.0003}


def test_usage_report_by_day_and_time_range(metered):
    old_id = run()
    run()
    yesterday = datetime.now(UTC) - timedelta(days=1)
    db.session.execute(update(SkillRun).where(SkillRun.id == old_id).values(created_at=yesterday))
    db.session.commit()
    now = datetime.now(UTC)
    rows = usage_report(metered, "t1", now - timedelta(days=2), now + timedelta(hours=1), "day")["rows"]
    assert {r["day"]: r["requests"] for r in rows} == {
        yesterday.date().isoformat(): 1,
        now.date().isoformat(): 1,
    }
    today_only = usage_report(metered, "t1", now - timedelta(hours=1), now + timedelta(hours=1), "day")["rows"]
    assert [r["requests"] for r in today_only] == [1]
    with pytest.raises(ValueError, match="group_by"):
        usage_report(metered, "t1", now, now, "planet")["rows"]


def test_a_run_is_stored_exactly_as_sqlalchemys_own_insert_stores_it(metered):
    """record_run writes through the driver with SQLAlchemy's bind processors: the stored values (the text of a
    timestamp on SQLite, a Decimal, the JSON of the routing) are those of an ORM insert of the same row."""
    from sqlalchemy import insert, text

    from backend.metering.usage import skill_run_fields

    routing = {"mode": "cost", "candidates": ["openai-main/gpt-4.1-mini"], "note": "é ✓"}
    record = RunRecord("t1", "u1", "summarize", model=MINI, usage=Usage(1234, 567), latency_ms=42, routing=routing)
    ours = record_run(db.engine, record)
    created = db.session.scalars(select(SkillRun.created_at).where(SkillRun.id == ours)).one()
    fields = {"tenant_id": "t1", "user_id": "u1", "job_id": None, **skill_run_fields(record), "created_at": created}
    with db.engine.begin() as conn:
        conn.execute(insert(SkillRun), {"id": "theirs", **fields})
    columns = ", ".join(column.name for column in SkillRun.__table__.columns if column.name != "id")
    with db.engine.connect() as conn:
        stored = {
            run_id: conn.execute(text(f"SELECT {columns} FROM skill_runs WHERE id = :id"), {"id": run_id}).one()  # noqa: S608
            for run_id in (ours, "theirs")
        }
    assert stored[ours] == stored["theirs"]
    assert created.tzinfo is not None and abs(created - datetime.now(UTC)) < timedelta(minutes=1)
    row = db.session.get(SkillRun, ours)
    assert row.routing == routing and Decimal(str(row.cost_usd)) == record.cost_usd


@pytest.mark.postgres
def test_days_are_utc_days_whatever_the_postgresql_servers_time_zone(postgres_url):
    """date() of a timestamptz is the day in the session's TimeZone: on a server set to Auckland (UTC+13 in
    November) a run late in a UTC day was reported on the next day, outside the range it was selected by."""
    from sqlalchemy.engine import make_url

    from backend.database import build_engine

    url = make_url(postgres_url)
    options = f"{url.query['options']} -ctimezone=Pacific/Auckland"
    engine = build_engine(url.update_query_dict({"options": options}).render_as_string(hide_password=False))
    try:
        Base.metadata.create_all(engine)
        with engine.begin() as conn:
            assert conn.exec_driver_sql("SHOW TIME ZONE").scalar() == "Pacific/Auckland"
            conn.execute(Tenant.__table__.insert(), {"id": "t1", "name": "A"})
            conn.execute(User.__table__.insert(), {"id": "u1", "tenant_id": "t1", "object_id": "o1"})
        late = datetime(2026, 11, 30, 20, tzinfo=UTC)  # 2026-12-01 09:00 in Auckland
        run_id = record_run(engine, RunRecord("t1", "u1", "summarize", model=MINI, usage=Usage(1000, 500)))
        with engine.begin() as conn:
            conn.execute(update(SkillRun).where(SkillRun.id == run_id).values(created_at=late))
        start = datetime(2026, 11, 30, tzinfo=UTC)
        rows = usage_report(engine, "t1", start, start + timedelta(days=1), "day")["rows"]
        assert [(row["day"], row["requests"]) for row in rows] == [("2026-11-30", 1)]
    finally:
        engine.dispose()
