"""Tenant isolation beyond path parameters (the route matrix covers those): settings, limits and the request path's
caches of one tenant never reach another, and list cursors naming another tenant's or user's rows change nothing.

Both tenants' users share one Entra object id, so anything keyed by the oid without the tenant shows up here.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from backend.extensions import db
from backend.models import AuditEvent, Job
from tests.auth_fixtures import TENANT_A, TENANT_B, bearer, entra, make_token, signing_key, tenants  # noqa: F401
from tests.test_admin_api import own_provider
from tests.test_invoke import invoke, providers_config, servers  # noqa: F401

SHARED_OID = "0b1c2d3e-0000-4000-8000-0000000000d1"
COLLEAGUE_OID = "0b1c2d3e-0000-4000-8000-0000000000d2"
ADMIN_OID = "0b1c2d3e-0000-4000-8000-0000000000d3"


@pytest.fixture
def app_config(app_config, entra, servers, tmp_path, monkeypatch):  # noqa: F811
    """Two fake model providers, one allowed self-hosted host, and the default hot caches (on)."""
    config = providers_config(app_config, entra, servers, tmp_path, monkeypatch)
    return {**config, "ALLOWED_MODEL_HOSTS": ["gpu.internal.example"]}


@pytest.fixture
def callers(make_token, tenants):  # noqa: F811
    """Headers of a user and an admin of each tenant; the two users have the same object id."""
    return {
        (tenant, role): bearer(make_token(tenant, oid, roles=["Tenant.Admin"] if role == "admin" else None))
        for tenant in (TENANT_A, TENANT_B)
        for role, oid in (("user", SHARED_OID), ("admin", ADMIN_OID))
    }


def test_one_tenants_settings_limits_and_catalog_never_reach_another(client, callers):
    """A's own provider, disabled skill and spent rate limit leave B's settings, catalog, skills and calls as they
    were (B is held to its own limit), and B's admin reads none of A's audit or usage."""
    a_admin, a_user = callers[(TENANT_A, "admin")], callers[(TENANT_A, "user")]
    b_admin, b_user = callers[(TENANT_B, "admin")], callers[(TENANT_B, "user")]
    patch = {
        "providers": [own_provider()],
        "disabled_skills": ["translate"],
        "rate_limits": {"tenant_requests_per_minute": 1},
    }
    assert client.patch("/api/admin/tenant", json=patch, headers=a_admin).status_code == 200
    b_limits = {"rate_limits": {"tenant_requests_per_minute": 2}}
    assert client.patch("/api/admin/tenant", json=b_limits, headers=b_admin).status_code == 200
    b_skills = {s["id"] for s in client.get("/api/skills?host=word", headers=b_user).get_json()["skills"]}
    assert "translate" in b_skills
    assert [invoke(client, a_user).status_code for _ in range(2)] == [200, 429]
    # A's spent minute is not B's: B gets exactly its own two requests.
    assert [invoke(client, b_user).status_code for _ in range(3)] == [200, 200, 429]
    b_settings = client.get("/api/admin/tenant", headers=b_admin).get_json()
    assert b_settings["providers"] == [] and b_settings["disabled_skills"] == []
    b_catalog = client.get("/api/admin/catalog", headers=b_admin).get_json()
    assert "ourgpu" not in {p["name"] for p in b_catalog["providers"]}
    assert client.post("/api/admin/providers/ourgpu/test", headers=b_admin).status_code == 404
    events = client.get("/api/admin/audit", headers=b_admin).get_json()["events"]
    assert [e["action"] for e in events] == ["settings.rate_limits"]
    b_user_id = client.get("/api/me", headers=b_user).get_json()["user_id"]
    usage = client.get("/api/admin/usage?group_by=user", headers=b_admin).get_json()["rows"]
    assert [(row["user"], row["requests"]) for row in usage] == [(b_user_id, 2)]


def _insert(app, *rows) -> list[str]:
    """Write rows outside any request (no tenant scope) and return their ids."""
    with app.app_context():
        db.session.add_all(rows)
        db.session.commit()
        return [row.id for row in rows]


def test_list_cursors_naming_anothers_rows_change_nothing(app, client, callers, make_token):  # noqa: F811
    """`before=` with the id of another user's or another tenant's job (or audit event) is ignored, not used as an
    anchor: the answer is the caller's own first page, and says nothing about when the foreign row was made."""
    owner, colleague = callers[(TENANT_A, "user")], bearer(make_token(TENANT_A, COLLEAGUE_OID))
    owner_id, colleague_id, b_user_id = (
        client.get("/api/me", headers=h).get_json()["user_id"] for h in (owner, colleague, callers[(TENANT_B, "user")])
    )
    now, long_ago = datetime.now(UTC), datetime.now(UTC) - timedelta(days=3)
    own = _insert(app, *(Job(tenant_id=TENANT_A, user_id=owner_id, skill_id="s", created_at=now) for _ in range(2)))
    foreign = _insert(
        app,
        Job(tenant_id=TENANT_A, user_id=colleague_id, skill_id="s", created_at=long_ago),
        Job(tenant_id=TENANT_B, user_id=b_user_id, skill_id="s", created_at=long_ago),
    )
    for anchor in foreign:
        page = client.get(f"/api/jobs?before={anchor}", headers=owner).get_json()
        assert sorted(job["id"] for job in page["jobs"]) == sorted(own)

    b_admin = callers[(TENANT_B, "admin")]
    assert client.patch("/api/admin/tenant", json={"name": "Fabrikam Ltd"}, headers=b_admin).status_code == 200
    (a_event,) = _insert(app, AuditEvent(tenant_id=TENANT_A, actor="operator:cli", action="x", created_at=long_ago))
    events = client.get("/api/admin/audit", headers=b_admin).get_json()["events"]
    assert events and client.get(f"/api/admin/audit?before={a_event}", headers=b_admin).get_json()["events"] == events
