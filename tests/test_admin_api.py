"""Tenant administration over HTTP: keys write-only, validation, audit, usage; admins of their own tenant only."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from backend.extensions import db
from backend.models import Tenant
from tests.auth_fixtures import TENANT_A, TENANT_B, bearer, entra, entra_app_config, make_token, signing_key, tenants  # noqa: F401
from tests.test_invoke import admin, invoke, providers_config, servers, user  # noqa: F401

TENANT_KEY = "sk-tenant-own-key-7f3a9c1e55d2"


def own_provider(**overrides) -> dict:
    """A self-hosted provider of the tenant's own at an allowed host."""
    provider = {
        "name": "ourgpu",
        "type": "selfhosted",
        "base_url": "http://gpu.internal.example:8000/v1",
        "api_key": TENANT_KEY,
        "models": [{"id": "llama-70b", "context_window": 32000, "max_output_tokens": 4096, "location": "on-prem"}],
    }
    return {**provider, **overrides}


@pytest.fixture
def app_config(app_config, entra, servers, tmp_path, monkeypatch):  # noqa: F811
    """The skills test configuration, allowing one self-hosted host for tenant providers."""
    config = providers_config(app_config, entra, servers, tmp_path, monkeypatch)
    return {**config, "ALLOWED_MODEL_HOSTS": ["gpu.internal.example"]}


def test_a_key_set_is_never_returned_and_is_stored_encrypted(app, client, admin):
    response = client.patch("/api/admin/tenant", json={"providers": [own_provider()]}, headers=admin)
    assert response.status_code == 200, response.get_json()
    assert TENANT_KEY not in response.get_data(as_text=True)
    listed = client.get("/api/admin/tenant", headers=admin)
    provider = next(p for p in listed.get_json()["providers"] if p["name"] == "ourgpu")
    assert provider["api_key_set"] is True and "api_key" not in provider
    assert TENANT_KEY not in listed.get_data(as_text=True)
    audit = client.get("/api/admin/audit", headers=admin)
    assert TENANT_KEY not in audit.get_data(as_text=True)
    assert any(e["action"] == "settings.providers" for e in audit.get_json()["events"])
    with app.app_context():
        stored = db.session.execute(text("SELECT api_key_encrypted FROM tenant_providers")).scalar_one()
        assert stored and TENANT_KEY not in stored


def test_omitting_the_key_keeps_it_and_null_clears_it(client, admin):
    client.patch("/api/admin/tenant", json={"providers": [own_provider()]}, headers=admin)
    without_key = own_provider()
    del without_key["api_key"]
    kept = client.patch("/api/admin/tenant", json={"providers": [without_key]}, headers=admin).get_json()
    assert next(p for p in kept["providers"] if p["name"] == "ourgpu")["api_key_set"] is True
    cleared = client.patch("/api/admin/tenant", json={"providers": [own_provider(api_key=None)]}, headers=admin)
    assert next(p for p in cleared.get_json()["providers"] if p["name"] == "ourgpu")["api_key_set"] is False


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"routing": {"mode": "fastest"}}, "routing/mode"),
        ({"routing": {"pins": {"summarize": ["nobody/none"]}}}, "routing/pins/summarize"),
        ({"disabled_skills": ["no_such_skill"]}, "disabled_skills"),
        ({"budgets": {"tenant_monthly_usd": -5}}, "budgets/tenant_monthly_usd"),
        ({"data_policy": {"confidential": {"providers": ["ghost"]}}}, "data_policy/confidential/providers"),
        ({"providers": [own_provider(base_url="http://evil.example.com/v1")]}, "providers/0"),
        ({"providers": [own_provider(type="quantum")]}, "providers/0/type"),
        ({"unknown_key": 1}, "(body)"),
    ],
)
def test_invalid_settings_answer_422_with_the_field(client, admin, patch, field):
    response = client.patch("/api/admin/tenant", json=patch, headers=admin)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "invalid_settings"
    assert any(d["field"].startswith(field) for d in error["details"]), error["details"]


def test_a_tenant_may_reprice_a_platform_provider_only_with_its_own_key(client, admin):
    """The platform's key is metered at the platform's price: a tenant's own price would under-count its spend."""
    model = {"id": "gpt-test", "context_window": 32000, "price_per_million": {"input": 0, "output": 0}}
    on_platform_key = client.patch("/api/admin/tenant", json={"providers": [{"name": "cheap", "models": [model]}]},
                                   headers=admin)  # fmt: skip
    assert on_platform_key.status_code == 422
    assert "price_per_million" in on_platform_key.get_json()["error"]["details"][0]["message"]
    repriced = {"name": "cheap", "api_key": "sk-tenant", "models": [model]}
    assert client.patch("/api/admin/tenant", json={"providers": [repriced]}, headers=admin).status_code == 200


def test_pins_to_known_models_are_accepted_and_audited_with_before_and_after(client, admin):
    response = client.patch(
        "/api/admin/tenant",
        json={"routing": {"mode": "pinned", "pins": {"summarize": ["claude/claude-test"]}}},
        headers=admin,
    )
    assert response.status_code == 200, response.get_json()
    event = client.get("/api/admin/audit", headers=admin).get_json()["events"][0]
    assert event["action"] == "settings.routing" and event["actor"].startswith("user:")
    assert event["before"]["routing"]["mode"] == "cost" and event["after"]["routing"]["mode"] == "pinned"


def test_a_stale_version_is_a_conflict(client, admin):
    version = client.get("/api/admin/tenant", headers=admin).get_json()["version"]
    assert (
        client.patch(
            "/api/admin/tenant", json={"name": "Contoso Ltd", "expected_version": version}, headers=admin
        ).status_code
        == 200
    )
    stale = client.patch("/api/admin/tenant", json={"name": "Contoso 2", "expected_version": version}, headers=admin)
    assert stale.status_code == 409


def test_usage_groups_the_runs_just_made(client, user, admin):
    for _ in range(3):
        assert invoke(client, user).status_code == 200
    by_skill = client.get("/api/admin/usage?group_by=skill", headers=admin).get_json()["rows"]
    row = next(r for r in by_skill if r["skill"] == "summarize")
    assert row["requests"] == 3
    assert row["input_tokens"] > 0 and row["output_tokens"] > 0 and row["cost_usd"] > 0
    by_day = client.get("/api/admin/usage?group_by=day", headers=admin).get_json()["rows"]
    assert sum(r["requests"] for r in by_day) == 3
    assert client.get("/api/admin/usage?group_by=galaxy", headers=admin).status_code == 400
    assert client.get("/api/admin/usage?from=2026-13-01", headers=admin).status_code == 400


def test_admin_routes_refuse_users_and_other_tenants(client, user, make_token):  # noqa: F811
    other_admin = bearer(make_token(TENANT_B, "0b1c2d3e-0000-4000-8000-0000000000b2", roles=["Tenant.Admin"]))
    for method, path in [
        ("get", "/api/admin/tenant"),
        ("patch", "/api/admin/tenant"),
        ("get", "/api/admin/usage"),
        ("get", "/api/admin/audit"),
    ]:
        response = getattr(client, method)(path, headers=user, json={"name": "x"} if method == "patch" else None)
        assert response.status_code == 403, path
    # An admin of tenant B changes tenant B only.
    client.patch("/api/admin/tenant", json={"name": "Fabrikam renamed"}, headers=other_admin)
    assert "renamed" not in json.dumps(client.get("/api/me", headers=user).get_json())


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"name": "Contoso\0"}, "name"),
        ({"data_policy": {"general": {"locations": ["on\0prem"]}}}, "data_policy/general/locations/0"),
        ({"providers": [own_provider(base_url="http://gpu.internal.example:8000/v1\0")]}, "providers/0/base_url"),
        ({"providers": [own_provider(api_version="2024\0")]}, "providers/0/api_version"),
    ],
)
def test_a_nul_character_in_settings_is_422_on_postgresql_not_a_500(app_pg, make_token, patch, field):  # noqa: F811
    """PostgreSQL cannot store NUL in text: such a setting is invalid input, named by its field."""
    with app_pg.app_context():
        db.session.add(Tenant(id=TENANT_A, name="Contoso"))
        db.session.commit()
    admin_headers = bearer(make_token(TENANT_A, roles=["Tenant.Admin"]))
    response = app_pg.test_client().patch("/api/admin/tenant", json=patch, headers=admin_headers)
    assert response.status_code == 422, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == "invalid_settings" and field in [problem["field"] for problem in error["details"]]


@pytest.mark.parametrize(
    "provider",
    [own_provider(api_key=TENANT_KEY * 200), own_provider(api_key=[TENANT_KEY]), TENANT_KEY],
    ids=["too-long", "wrong-type", "not-an-object"],
)
def test_an_invalid_key_is_never_echoed_in_the_error(client, admin, provider):
    """jsonschema's messages quote the offending value: the 422 names the field and the rule, never the key."""
    response = client.patch("/api/admin/tenant", json={"providers": [provider]}, headers=admin)
    assert response.status_code == 422
    assert response.get_json()["error"]["details"][0]["field"].startswith("providers/0")
    assert TENANT_KEY not in response.get_data(as_text=True)


def test_a_data_policy_may_name_an_own_provider_without_resending_the_providers(client, admin):
    """The console's routing tab sends routing and data_policy only: "confidential stays on our own model" must pass."""
    assert client.patch("/api/admin/tenant", json={"providers": [own_provider()]}, headers=admin).status_code == 200
    policy = {"confidential": {"providers": ["ourgpu"]}}
    response = client.patch("/api/admin/tenant", json={"data_policy": policy}, headers=admin)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["data_policy"]["confidential"] == {"providers": ["ourgpu"]}


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        # The provider this very patch removes.
        ({"providers": [], "routing": {"mode": "pinned", "pins": {"summarize": ["ourgpu/llama-70b"]}}}, "unknown"),
        ({"providers": [], "data_policy": {"confidential": {"providers": ["ourgpu"]}}}, "unknown provider"),
        # A model the tenant's own narrowing leaves out.
        (
            {
                "providers": [own_provider(), {"name": "cheap", "allowed_models": []}],
                "routing": {"mode": "pinned", "pins": {"summarize": ["cheap/gpt-test"]}},
            },
            "not allowed",
        ),
        ({"routing": {"mode": "pinned", "pins": {"summarize": ["claude/claude-test", "claude/claude-test"]}}}, ""),
        ({"providers": [{"name": "cheap", "allowed_models": ["gpt-tset"]}]}, "entry 1 is an unknown model"),
    ],
    ids=["pin-removed-provider", "policy-removed-provider", "pin-not-allowed", "pin-twice", "allowed-typo"],
)
def test_references_are_checked_against_the_catalog_the_patch_leaves(client, admin, patch, message):
    assert client.patch("/api/admin/tenant", json={"providers": [own_provider()]}, headers=admin).status_code == 200
    response = client.patch("/api/admin/tenant", json=patch, headers=admin)
    assert response.status_code == 422, response.get_json()
    assert any(message in d["message"] for d in response.get_json()["error"]["details"]), response.get_json()


@pytest.mark.parametrize(
    "body",
    [
        '{"budgets": {"tenant_monthly_usd": NaN}}',
        '{"budgets": {"user_monthly_usd": Infinity}}',
        '{"providers": [{"name": "cheap", "api_key": "k", "models": [{"id": "gpt-test", "context_window": 32000, '
        '"price_per_million": {"input": -Infinity}}]}]}',
    ],
)
def test_nan_and_infinity_are_malformed_json(client, admin, user, body):
    """Python's JSON parser reads NaN; a NaN budget passed every bound and then failed each call of the tenant."""
    headers = {**admin, "Content-Type": "application/json"}
    response = client.patch("/api/admin/tenant", data=body, headers=headers)
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.get_json()["error"]["code"] == "malformed_json"
    assert "NaN" not in client.get("/api/admin/tenant", headers=admin).get_data(as_text=True)
    assert invoke(client, user).status_code == 200


def test_a_narrowing_row_shows_its_overrides_and_survives_being_sent_back(client, admin):
    """The console sends the providers it read back without their keys: a narrowing row's own models (its prices,
    allowed with its own key) must be shown, kept, and still pass when the kept key is not resent."""
    model = {"id": "gpt-test", "context_window": 32000, "price_per_million": {"input": 0.1, "output": 0.2}}
    narrowing = {"name": "cheap", "api_key": TENANT_KEY, "models": [model]}
    assert client.patch("/api/admin/tenant", json={"providers": [narrowing]}, headers=admin).status_code == 200
    shown = client.get("/api/admin/tenant", headers=admin).get_json()["providers"][0]
    assert shown["models"] == [model] and shown["api_key_set"] is True
    resent = {k: v for k, v in shown.items() if k != "api_key_set"}
    response = client.patch("/api/admin/tenant", json={"providers": [{**resent, "enabled": False}]}, headers=admin)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["providers"][0] == {**shown, "enabled": False}
    events = client.get("/api/admin/audit", headers=admin).get_json()["events"]
    assert events[0]["after"]["providers"][0]["models"] == [model]  # the audit shows what the row holds


ON_PREM = [{"id": "gpt-test", "context_window": 32000, "location": "on-prem"}]
US_EAST = [{"id": "gpt-test", "context_window": 32000, "location": "us-east"}]


@pytest.mark.parametrize(
    ("entry", "status"),
    [
        ({"name": "cheap", "models": ON_PREM}, 422),  # on the platform's key and URL
        ({"name": "cheap", "api_key": TENANT_KEY, "models": ON_PREM}, 422),  # its own key, the platform's URL
        ({"name": "cheap", "models": US_EAST}, 200),  # the same place
        # its own endpoint: the tenant knows where that runs
        ({"name": "cheap", "api_key": TENANT_KEY, "base_url": "http://gpu.internal.example:8000/v1", "models": ON_PREM},
         200),
    ],
)  # fmt: skip
def test_a_platform_model_keeps_its_location_unless_called_at_the_tenant_endpoint(client, admin, entry, status):
    """Relabelled, a cloud model would pass a data policy's `locations: [on-prem]` rule and answers would name the
    wrong place."""
    response = client.patch("/api/admin/tenant", json={"providers": [entry]}, headers=admin)
    assert response.status_code == status, response.get_json()
    if status == 422:
        assert "location" in json.dumps(response.get_json()["error"]["details"])


@pytest.mark.parametrize(
    "base_url",
    [
        "http://bob:hunter2@gpu.internal.example:8000/v1",
        "http://hunter2@gpu.internal.example/v1",
        "http://gpu.internal.example/v1?api-key=hunter2",  # a gateway's key in the query string
        "http://gpu.internal.example/v1?x=1#hunter2",
    ],
)
def test_a_tenant_url_with_credentials_is_refused_and_not_echoed(client, admin, base_url):
    """A password in the URL would be shown back by GET, the catalog and the audit log, unlike api_key."""
    response = client.patch("/api/admin/tenant", json={"providers": [own_provider(base_url=base_url)]}, headers=admin)
    assert response.status_code == 422
    assert "hunter2" not in response.get_data(as_text=True)
    assert "hunter2" not in client.get("/api/admin/audit", headers=admin).get_data(as_text=True)


def test_an_ipv6_allowed_host_may_be_listed_with_brackets(app, client, admin):
    app.config["ALLOWED_MODEL_HOSTS"] = ["[FD00::1]"]
    provider = own_provider(base_url="http://[fd00::1]:8000/v1")
    assert client.patch("/api/admin/tenant", json={"providers": [provider]}, headers=admin).status_code == 200
    other = own_provider(base_url="http://[fd00::2]:8000/v1")
    assert client.patch("/api/admin/tenant", json={"providers": [other]}, headers=admin).status_code == 422


@pytest.mark.postgres
def test_concurrent_patches_with_the_same_version_never_both_win(app_pg, make_token):  # noqa: F811
    """Another change commits between this PATCH's read of the version and its write: 409, not a silent overwrite."""
    import threading
    import time

    with app_pg.app_context():
        db.session.add(Tenant(id=TENANT_A, name="Contoso"))
        db.session.commit()
    client = app_pg.test_client()
    headers = bearer(make_token(TENANT_A, roles=["Tenant.Admin"]))
    version = client.get("/api/admin/tenant", headers=headers).get_json()["version"]
    with app_pg.app_context():
        other = db.engine.connect()
        transaction = other.begin()  # another admin's PATCH, in the middle of its commit
        other.execute(text("UPDATE tenant_settings SET version = version + 1 WHERE tenant_id = :t"), {"t": TENANT_A})
        answers = []
        patch = {"budgets": {"tenant_monthly_usd": 5}, "expected_version": version}
        worker = threading.Thread(target=lambda: answers.append(client.patch("/api/admin/tenant", json=patch,
                                                                             headers=headers)))  # fmt: skip
        worker.start()
        time.sleep(0.5)
        transaction.commit()
        other.close()
        worker.join(10)
    assert answers and answers[0].status_code == 409, answers and answers[0].get_json()
    assert client.get("/api/admin/tenant", headers=headers).get_json()["version"] == version + 1


def test_a_key_change_is_visible_in_the_audit_without_the_key(client, admin):
    assert client.patch("/api/admin/tenant", json={"providers": [own_provider()]}, headers=admin).status_code == 200
    rotated = own_provider(api_key="sk-a-new-tenant-key-0000")
    assert client.patch("/api/admin/tenant", json={"providers": [rotated]}, headers=admin).status_code == 200
    cleared = own_provider(api_key=None)
    assert client.patch("/api/admin/tenant", json={"providers": [cleared]}, headers=admin).status_code == 200
    audit = client.get("/api/admin/audit", headers=admin)
    events = [e for e in audit.get_json()["events"] if e["action"] == "settings.providers"]
    assert [e["after"]["providers"][0]["api_key_change"] for e in events] == ["cleared", "set", "set"]
    assert "sk-a-new-tenant-key" not in audit.get_data(as_text=True) and TENANT_KEY not in audit.get_data(as_text=True)


def test_audit_pages_list_every_event_once_even_when_they_share_a_timestamp(app, client, admin):
    patch = {"name": "Contoso Ltd", "routing": {"mode": "quality"}, "budgets": {"tenant_monthly_usd": 10}}
    assert client.patch("/api/admin/tenant", json=patch, headers=admin).status_code == 200
    with app.app_context():  # the three events of that PATCH, stamped in the same instant
        db.session.execute(text("UPDATE audit_events SET created_at = (SELECT MIN(created_at) FROM audit_events)"))
        db.session.commit()
    seen, before = [], None
    for _ in range(5):
        query = "?limit=1" + (f"&before={before}" if before else "")
        page = client.get(f"/api/admin/audit{query}", headers=admin).get_json()["events"]
        if not page:
            break
        seen.append(page[0]["action"])
        before = page[0]["id"]
    assert sorted(seen) == ["settings.budgets", "settings.name", "settings.routing"]
