"""`GET /api/admin/usage` as a tenant admin reads it: range edges, exact totals, day order, runs without a model."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import select, update

from backend.extensions import db
from backend.metering.usage import RunRecord, record_run
from backend.models import SkillRun, User
from backend.providers.base import ModelSpec, Usage
from tests.auth_fixtures import (  # noqa: F401
    TENANT_A,
    TENANT_B,
    bearer,
    entra,
    entra_app_config,
    make_token,
    signing_key,
    tenants,
)

# 0.1 USD per input token.
DIME = ModelSpec("openai-main", "gpt-dime", 128_000, 16_384, price_in_per_million=Decimal("100000"),
                 price_out_per_million=Decimal(0), location="us-east")  # fmt: skip


@pytest.fixture
def app_config(app_config, entra):  # noqa: F811
    """The shared test configuration pointed at the loopback Entra."""
    return entra_app_config(app_config, entra)


@pytest.fixture
def admin(make_token, tenants):  # noqa: F811
    """Headers of a tenant admin of tenant A."""
    return bearer(make_token(TENANT_A, "0b1c2d3e-0000-4000-8000-000000000002", roles=["Tenant.Admin"]))


@pytest.fixture
def record(app, client, admin):
    """Record a run of the only user of a tenant (A's admin, made a user by one request) at a given time."""
    assert client.get("/api/me", headers=admin).status_code == 200

    def add(when: datetime, model: ModelSpec | None = DIME, tokens=(1, 0), tenant: str = TENANT_A, **fields) -> str:
        with app.app_context():
            user_id = db.session.scalars(select(User.id).where(User.tenant_id == tenant)).one()  # its only user
            run = RunRecord(tenant, user_id, "summarize", model=model, usage=Usage(*tokens), **fields)
            run_id = record_run(db.engine, run)
            db.session.execute(update(SkillRun).where(SkillRun.id == run_id).values(created_at=when))
            db.session.commit()
            return run_id

    return add


@pytest.mark.parametrize(
    "query",
    ["to=9999-12-31", "from=9999-12-01&to=9999-12-31", "to=0001-01-05"],
    ids=["last-day", "last-month", "default-start-before-year-1"],
)
def test_a_range_at_the_ends_of_the_calendar_is_a_400_not_a_500(client, admin, query):
    """The day after `to` (the range's end) or the default start 29 days before it may not exist as a date."""
    response = client.get(f"/api/admin/usage?{query}", headers=admin)
    assert response.status_code == 400, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["code"] == "bad_request" and "9999" not in error["message"].replace("9999-12-30", "")


@pytest.mark.parametrize(
    "query",
    ["from=2026-12-01&to=2026-11-30", "from=2025-01-01&to=2026-11-30", "from=yesterday", "to=2026-11-31",
     "group_by=tenant", "from=2026-11-01T00:00:00%2B05:00"],
)  # fmt: skip
def test_bad_ranges_and_groupings_are_400_without_the_value(client, admin, query):
    response = client.get(f"/api/admin/usage?{query}", headers=admin)
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert response.get_json()["error"]["code"] == "bad_request"
    assert not any(word in body for word in ("yesterday", "tenant", "11-31", "+05"))


def test_a_range_spans_at_most_366_days_counting_both_ends(client, admin):
    """A leap year is the longest range: 2024-01-01 to 2024-12-31 passes, one more day is refused as the message
    says (the check counted the days between the ends, which let 367 through)."""
    assert client.get("/api/admin/usage?from=2024-01-01&to=2024-12-31", headers=admin).status_code == 200
    refused = client.get("/api/admin/usage?from=2024-01-01&to=2025-01-01", headers=admin)
    assert refused.status_code == 400 and "366 days" in refused.get_json()["error"]["message"]


def test_totals_are_the_exact_sums_of_the_rows(client, admin, record):
    """Ten calls of 0.1 USD cost 1.0 USD, not the 0.9999999999999999 that adding the rows' floats gives."""
    day = datetime(2026, 11, 15, 12, tzinfo=UTC)
    for i in range(10):
        record(day + timedelta(days=i), tokens=(1, 7))
    report = client.get("/api/admin/usage?from=2026-11-01&to=2026-11-30&group_by=day", headers=admin).get_json()
    assert [row["cost_usd"] for row in report["rows"]] == [0.1] * 10
    assert sum(row["cost_usd"] for row in report["rows"]) != 1.0  # why the totals are summed by the server
    assert report["totals"] == {"requests": 10, "input_tokens": 10, "output_tokens": 70, "cost_usd": 1.0}
    for group_by in ("user", "skill", "model"):
        grouped = client.get(f"/api/admin/usage?from=2026-11-01&to=2026-11-30&group_by={group_by}", headers=admin)
        assert grouped.get_json()["totals"] == report["totals"]
    empty = client.get("/api/admin/usage?from=2026-10-01&to=2026-10-31", headers=admin).get_json()
    assert empty["rows"] == [] and empty["totals"] == {
        "requests": 0,
        "input_tokens": 0,
        "output_tokens": 0,
        "cost_usd": 0.0,
    }


def test_days_are_listed_in_date_order_whatever_they_cost(client, admin, record):
    """A chart per day reads left to right in time; ordering days by cost scrambled it."""
    record(datetime(2026, 11, 2, 9, tzinfo=UTC), tokens=(1, 0))
    record(datetime(2026, 11, 3, 9, tzinfo=UTC), tokens=(5, 0))
    record(datetime(2026, 11, 1, 9, tzinfo=UTC), tokens=(3, 0))
    rows = client.get("/api/admin/usage?from=2026-11-01&to=2026-11-30&group_by=day", headers=admin).get_json()["rows"]
    assert [row["day"] for row in rows] == ["2026-11-01", "2026-11-02", "2026-11-03"]


def test_the_range_is_whole_utc_days_across_a_month_boundary(client, admin, record):
    """`to` is inclusive to its last microsecond (UTC) and the next day's first instant belongs to the next range."""
    record(datetime(2026, 11, 30, 23, 59, 59, 999_999, tzinfo=UTC))
    record(datetime(2026, 12, 1, tzinfo=UTC))
    record(datetime(2026, 12, 1, 0, 30, tzinfo=timezone(timedelta(hours=2))))  # 2026-11-30 22:30 UTC
    november = client.get("/api/admin/usage?from=2026-11-30&to=2026-11-30", headers=admin).get_json()
    december = client.get("/api/admin/usage?from=2026-12-01&to=2026-12-01", headers=admin).get_json()
    assert [(r["day"], r["requests"]) for r in november["rows"]] == [("2026-11-30", 2)]
    assert [(r["day"], r["requests"]) for r in december["rows"]] == [("2026-12-01", 1)]


def test_a_call_no_model_answered_is_counted_under_no_model(client, admin, record):
    """A call that failed before any model answered is a request of no model (null), not of a model named "/"."""
    day = datetime(2026, 11, 5, tzinfo=UTC)
    record(day, model=None, tokens=(0, 0), outcome="failed", error_code="all_models_failed")
    record(day, tokens=(10, 2), outcome="interrupted", error_code="stream_interrupted")  # charged what it used
    rows = client.get("/api/admin/usage?from=2026-11-01&to=2026-11-30&group_by=model", headers=admin).get_json()
    assert {row["model"]: (row["requests"], row["cost_usd"]) for row in rows["rows"]} == {
        "openai-main/gpt-dime": (1, 1.0),
        None: (1, 0.0),
    }


def test_a_user_row_names_the_user(client, admin, make_token, record):  # noqa: F811
    """Users are keyed by their Switchboard id, which an admin cannot tell apart: each row carries the name too."""
    oid = "0b1c2d3e-0000-4000-8000-000000000002"  # the admin's, now signing in with a name
    renamed = bearer(make_token(TENANT_A, oid, roles=["Tenant.Admin"], name="Ada Lovelace"))
    record(datetime(2026, 11, 5, tzinfo=UTC))
    rows = client.get("/api/admin/usage?from=2026-11-01&to=2026-11-30&group_by=user", headers=renamed).get_json()
    assert [(row["name"], row["requests"]) for row in rows["rows"]] == [("Ada Lovelace", 1)]
    assert len(rows["rows"][0]["user"]) == 32


def test_another_tenants_runs_never_count(client, admin, make_token, record):  # noqa: F811
    b_user = bearer(make_token(TENANT_B, "0b1c2d3e-0000-4000-8000-0000000000b9"))
    assert client.get("/api/me", headers=b_user).status_code == 200
    day = datetime(2026, 11, 5, tzinfo=UTC)
    record(day)
    record(day, tenant=TENANT_B, tokens=(50, 50))
    report = client.get("/api/admin/usage?from=2026-11-01&to=2026-11-30", headers=admin).get_json()
    assert report["totals"]["requests"] == 1 and report["totals"]["input_tokens"] == 1
