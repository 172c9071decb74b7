"""`GET /api/admin/audit` as a tenant admin pages it (the stored rows are searched for keys by the privacy sweep)."""

from __future__ import annotations

from sqlalchemy import text

from backend.extensions import db
from tests.auth_fixtures import TENANT_A, bearer, entra, make_token, signing_key, tenants  # noqa: F401
from tests.test_admin_api import app_config  # noqa: F401
from tests.test_invoke import admin, servers  # noqa: F401


def test_pages_follow_next_until_it_is_null_listing_each_event_once(app, client, admin):  # noqa: F811
    patches = [{"name": f"Contoso {i}"} for i in range(4)]
    patches.append({"routing": {"mode": "quality"}, "budgets": {"tenant_monthly_usd": 5}})  # two events, one instant
    for patch in patches:
        assert client.patch("/api/admin/tenant", json=patch, headers=admin).status_code == 200
    with app.app_context():  # every event in one instant: the order is by id within it
        db.session.execute(text("UPDATE audit_events SET created_at = (SELECT MIN(created_at) FROM audit_events)"))
        db.session.commit()
    everything = client.get("/api/admin/audit", headers=admin).get_json()
    assert everything["next"] is None and len(everything["events"]) == 6
    seen, query = [], "?limit=4"
    while True:
        page = client.get(f"/api/admin/audit{query}", headers=admin).get_json()
        seen += [event["id"] for event in page["events"]]
        if page["next"] is None:
            break
        assert page["next"] == page["events"][-1]["id"]
        query = f"?limit=4&before={page['next']}"
    assert seen == [event["id"] for event in everything["events"]]
    exact = client.get("/api/admin/audit?limit=6", headers=admin).get_json()
    assert len(exact["events"]) == 6 and exact["next"] is None  # a last page that is full says so


def test_each_event_names_its_actor_by_display_name(app, client, make_token, tenants):  # noqa: F811
    """The actor is an Entra object id, which an admin cannot read: the event carries the user's name beside it."""
    from backend.admin import audit

    oid = "0b1c2d3e-0000-4000-8000-00000000a11e"
    grace = bearer(make_token(TENANT_A, oid, roles=["Tenant.Admin"], name="Grace Hopper"))
    assert client.patch("/api/admin/tenant", json={"name": "Contoso Ltd"}, headers=grace).status_code == 200
    with app.app_context():  # and a change an operator made on the command line
        audit.record(TENANT_A, "operator:cli", "tenant.status", "tenant", {"status": "x"}, {"status": "active"})
        db.session.commit()
    events = client.get("/api/admin/audit", headers=grace).get_json()["events"]
    assert {(e["actor"], e["actor_name"]) for e in events} == {(f"user:{oid}", "Grace Hopper"), ("operator:cli", None)}
