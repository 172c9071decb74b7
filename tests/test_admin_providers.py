"""The admin console's catalog and connection test: real provider calls to the loopback fakes, keys never shown."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.auth_fixtures import TENANT_A, bearer, entra, make_token, signing_key, tenants  # noqa: F401
from tests.fakes import Fault
from tests.fakes.common import closed_port_url
from tests.fakes.harness import TEST_KEY
from tests.test_invoke import admin, providers_config, servers, user  # noqa: F401

OWN_KEY = "sk-own-tenant-key-5e1d0a9b77"


@pytest.fixture
def app_config(app_config, entra, servers, tmp_path, monkeypatch):  # noqa: F811
    """The skills configuration; tenants may point providers at loopback (where the fakes listen)."""
    return {**providers_config(app_config, entra, servers, tmp_path, monkeypatch), "ALLOWED_MODEL_HOSTS": ["127.0.0.1"]}


def own_provider(base_url: str, api_key: str) -> dict:
    """A self-hosted provider of the tenant's own."""
    models = [{"id": "gpt-test", "context_window": 32000, "max_output_tokens": 512, "location": "on-prem"}]
    return {"name": "ourgpu", "type": "selfhosted", "base_url": base_url, "api_key": api_key, "models": models}


def set_providers(client, admin, providers: list[dict]) -> None:  # noqa: F811
    """PATCH the tenant's providers and insist it worked."""
    response = client.patch("/api/admin/tenant", json={"providers": providers}, headers=admin)
    assert response.status_code == 200, response.get_json()


def test_catalog_lists_platform_and_own_providers_and_every_skill_without_keys(client, admin, servers):  # noqa: F811
    openai, _ = servers
    set_providers(client, admin, [own_provider(openai.base_url, OWN_KEY), {"name": "claude", "enabled": False}])
    client.patch("/api/admin/tenant", json={"disabled_skills": ["translate"]}, headers=admin)
    response = client.get("/api/admin/catalog", headers=admin)
    assert response.status_code == 200
    body = response.get_json()
    by_name = {p["name"]: p for p in body["providers"]}
    assert by_name["cheap"]["owner"] == "platform" and "base_url" not in by_name["cheap"]
    assert by_name["claude"]["enabled"] is False
    assert by_name["ourgpu"]["owner"] == "tenant" and by_name["ourgpu"]["base_url"] == openai.base_url
    assert [m["ref"] for m in by_name["ourgpu"]["models"]] == ["ourgpu/gpt-test"]
    assert body["platform_providers"] == ["cheap", "claude"]
    assert "translate" in {s["id"] for s in body["skills"]}  # disabled skills are listed, so they can be re-enabled
    text = response.get_data(as_text=True)
    assert OWN_KEY not in text and TEST_KEY not in text


def test_a_platform_provider_answers_ok(client, admin, servers):  # noqa: F811
    openai, _ = servers
    before = len(openai.requests)
    body = client.post("/api/admin/providers/cheap/test", headers=admin).get_json()
    assert body["ok"] is True and body["model"] == "cheap/gpt-test" and body["latency_ms"] >= 0
    assert len(openai.requests) == before + 1  # one real call reached the provider


def test_a_wrong_key_answers_auth_and_never_echoes_the_key(client, admin, servers):  # noqa: F811
    openai, _ = servers
    set_providers(client, admin, [own_provider(openai.base_url, OWN_KEY)])
    response = client.post("/api/admin/providers/ourgpu/test", headers=admin)
    assert response.get_json() == {"ok": False, "model": "ourgpu/gpt-test", "error": "auth", "status": 401}
    assert OWN_KEY not in response.get_data(as_text=True)
    set_providers(client, admin, [own_provider(openai.base_url, TEST_KEY)])
    assert client.post("/api/admin/providers/ourgpu/test", headers=admin).get_json()["ok"] is True


def test_server_errors_and_unreachable_hosts_answer_their_kind(client, admin, servers):  # noqa: F811
    openai, _ = servers
    openai.script(fault=Fault.server_error(500), times=5)  # the SDK's own retries see the same failure
    assert client.post("/api/admin/providers/cheap/test", headers=admin).get_json()["error"] == "server"
    set_providers(client, admin, [own_provider(f"{closed_port_url()}/v1", TEST_KEY)])
    assert client.post("/api/admin/providers/ourgpu/test", headers=admin).get_json()["error"] == "connect"


def test_unknown_providers_are_404_and_users_are_refused(client, admin, user):  # noqa: F811
    assert client.post("/api/admin/providers/nobody/test", headers=admin).status_code == 404
    assert client.post("/api/admin/providers/cheap/test", headers=user).status_code == 403
    assert client.get("/api/admin/catalog", headers=user).status_code == 403


def rotate_secret_key(app, fallbacks: list[str]) -> None:
    """The operator changes SWITCHBOARD_SECRET_KEY (keeping `fallbacks`) and restarts: the process's catalog caches
    and routing tables start over."""
    from backend.auth.ttlcache import forget_rows
    from backend.catalog.tenant import CACHE_KEY
    from backend.routing import router

    app.config.update(SECRET_KEY="a-new-secret-key-after-rotation", SECRET_KEY_FALLBACKS=fallbacks)
    app.extensions.pop(CACHE_KEY, None)
    forget_rows()
    router._tables.clear()  # a restarted process has compiled none


def test_a_key_the_secret_keys_cannot_decrypt_leaves_out_its_provider_only(app, client, admin, user, servers):  # noqa: F811
    """A secret key rotated without its predecessor in SECRET_KEY_FALLBACKS: the tenant's other models still answer,
    the admin console still works and says a row is unusable, and setting the key again repairs the provider."""
    openai, _ = servers
    set_providers(client, admin, [own_provider(openai.base_url, TEST_KEY)])
    old_key = app.config["SECRET_KEY"]
    rotate_secret_key(app, fallbacks=[old_key])
    assert client.post("/api/admin/providers/ourgpu/test", headers=admin).get_json()["ok"] is True

    rotate_secret_key(app, fallbacks=[])
    response = client.post(
        "/api/skills/summarize/invoke",
        json={"input": {"text": "Some text."}},
        headers={**user, "Accept": "application/json"},
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["model"]["provider"] == "cheap"
    catalog = client.get("/api/admin/catalog", headers=admin)
    assert catalog.status_code == 200
    assert catalog.get_json()["problems"] == 1 and "ourgpu" not in {p["name"] for p in catalog.get_json()["providers"]}
    assert catalog.get_json()["unusable_providers"] == [{"name": "ourgpu", "reason": "key_unreadable"}]
    before = len(openai.requests)
    tested = client.post("/api/admin/providers/ourgpu/test", headers=admin)
    assert tested.get_json() == {"ok": False, "model": None, "error": "key_unreadable", "status": None}
    assert len(openai.requests) == before  # nothing is called: no other key stands in for the unreadable one

    set_providers(client, admin, [own_provider(openai.base_url, TEST_KEY)])  # the admin sets the key again
    assert client.post("/api/admin/providers/ourgpu/test", headers=admin).get_json()["ok"] is True


def shown_provider(client, admin, name: str) -> dict:  # noqa: F811
    """A provider of the tenant's settings document as GET /api/admin/tenant shows it."""
    providers = client.get("/api/admin/tenant", headers=admin).get_json()["providers"]
    return next(p for p in providers if p["name"] == name)


@pytest.mark.parametrize("rotated", [pytest.param("restart", id="restarted-on-a-new-key"), "elsewhere"])
def test_the_settings_document_says_which_stored_key_is_unreadable(app, client, admin, servers, rotated):  # noqa: F811
    """A stored key the secret keys cannot decrypt still reads `api_key_set: true` (it is stored), and
    `api_key_unreadable: true` beside it says to set it again; a readable key has no such field."""
    openai, _ = servers
    set_providers(client, admin, [own_provider(openai.base_url, OWN_KEY)])
    assert "api_key_unreadable" not in shown_provider(client, admin, "ourgpu")
    make_key_unreadable(app, "ourgpu", rotated)
    response = client.get("/api/admin/tenant", headers=admin)
    shown = next(p for p in response.get_json()["providers"] if p["name"] == "ourgpu")
    assert shown["api_key_set"] is True and shown["api_key_unreadable"] is True and "api_key" not in shown
    assert OWN_KEY not in response.get_data(as_text=True)

    set_providers(client, admin, [own_provider(openai.base_url, OWN_KEY)])  # the admin sets the key again
    assert "api_key_unreadable" not in shown_provider(client, admin, "ourgpu")


def test_a_provider_the_operator_turned_off_is_not_called_even_by_a_test(app, client, admin, servers):  # noqa: F811
    """On the platform's key nobody calls a provider disabled in the providers file; a tenant that turned one off
    itself may still test it (before turning it back on)."""
    path = Path(app.config["PROVIDERS_FILE"])
    document = yaml.safe_load(path.read_text())
    for provider in document["providers"]:
        provider["enabled"] = provider["name"] != "claude"
    path.write_text(yaml.safe_dump(document))
    _, claude = servers
    response = client.post("/api/admin/providers/claude/test", headers=admin)
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "provider_disabled"
    assert len(claude.requests) == 0
    set_providers(client, admin, [{"name": "cheap", "enabled": False}])  # the tenant's own choice
    assert client.post("/api/admin/providers/cheap/test", headers=admin).get_json()["ok"] is True


@pytest.mark.parametrize(
    "others",
    [
        pytest.param({}, id="providers-only"),  # the stored routing and data policy are checked against them too
        pytest.param(
            {"routing": {"mode": "pinned", "pins": {"summarize": ["ourgpu/gpt-test"]}}, "data_policy": {}},
            id="with-routing-and-data-policy",
        ),
    ],
)
def test_a_settings_change_builds_each_provider_it_sends_once(client, admin, servers, monkeypatch, others):  # noqa: F811
    """Checking the entries and then the references against the catalog they make share one build of each entry."""
    from backend.catalog import tenant

    openai, _ = servers
    built, build = [], tenant.tenant_provider

    def counted(entry, *args, **kwargs):
        """tenant_provider, noting which entry it built."""
        built.append(entry.get("name"))
        return build(entry, *args, **kwargs)

    monkeypatch.setattr(tenant, "tenant_provider", counted)
    patch = {"providers": [own_provider(openai.base_url, OWN_KEY)], **others}
    response = client.patch("/api/admin/tenant", json=patch, headers=admin)
    assert response.status_code == 200, response.get_json()
    assert built.count("ourgpu") == 1


def authorizations(fake, since: int) -> list[str | None]:
    """The Authorization header of each request the fake received after its first `since`."""
    return [request.headers.get("authorization") for request in fake.requests[since:]]


def make_key_unreadable(app, name: str, how: str) -> None:
    """The provider's stored key can no longer be decrypted here: this process restarted on a new secret key alone
    ("restart"), or the key was re-encrypted under a key this process does not have ("elsewhere")."""
    if how == "restart":
        rotate_secret_key(app, fallbacks=[])
    else:
        encrypt_under_another_key(app, name)


def encrypt_under_another_key(app, name: str) -> None:
    """`switchboard secrets rotate` ran under a secret key this process does not have (docs/serving.md, step 7): the
    provider's stored key is re-encrypted (its row updated) while this process keeps the keys it started with."""
    from sqlalchemy import select

    from backend.crypto import SecretBox
    from backend.extensions import db
    from backend.models import TenantProvider
    from backend.tenancy import unscoped

    with app.test_request_context(), unscoped():
        query = select(TenantProvider).where(TenantProvider.tenant_id == TENANT_A, TenantProvider.name == name)
        row = db.session.scalars(query).one()
        row.api_key_encrypted = SecretBox("a-secret-key-this-process-never-had-0123").encrypt(OWN_KEY)
        db.session.commit()


@pytest.mark.parametrize("rotated", [pytest.param("restart", id="restarted-on-a-new-key"), "elsewhere"])
def test_an_unreadable_key_of_a_narrowing_row_is_never_replaced_by_the_platform_key(
    app, client, admin, servers, rotated
):  # noqa: F811
    """A platform provider the tenant calls with its own key: once that key cannot be decrypted, the test reports it
    and calls nothing (never the platform's key, which the tenant's row had replaced), and the listing says why."""
    openai, _ = servers
    openai.api_key = None  # any key answers, as both would at the real provider: the keys sent are read instead
    set_providers(client, admin, [{"name": "cheap", "api_key": OWN_KEY}])
    before = len(openai.requests)
    assert client.post("/api/admin/providers/cheap/test", headers=admin).get_json()["ok"] is True
    assert authorizations(openai, before) == [f"Bearer {OWN_KEY}"]

    make_key_unreadable(app, "cheap", rotated)
    before = len(openai.requests)
    response = client.post("/api/admin/providers/cheap/test", headers=admin)
    assert authorizations(openai, before) == []
    assert response.get_json() == {"ok": False, "model": None, "error": "key_unreadable", "status": None}
    listing = client.get("/api/admin/catalog", headers=admin).get_json()
    assert listing["unusable_providers"] == [{"name": "cheap", "reason": "key_unreadable"}]
    assert not any(m["allowed"] for p in listing["providers"] if p["name"] == "cheap" for m in p["models"])

    set_providers(client, admin, [{"name": "cheap", "api_key": OWN_KEY}])  # the admin sets the key again
    assert client.get("/api/admin/catalog", headers=admin).get_json()["unusable_providers"] == []
    assert client.post("/api/admin/providers/cheap/test", headers=admin).get_json()["ok"] is True
    assert authorizations(openai, before) == [f"Bearer {OWN_KEY}"]


@pytest.mark.parametrize("rotated", [pytest.param("restart", id="restarted-on-a-new-key"), "elsewhere"])
def test_invokes_skip_a_provider_whose_key_is_unreadable_and_never_use_the_platform_key(
    app, client, admin, user, servers, rotated
):  # noqa: F811
    """Invokes of a tenant whose own key for a platform provider cannot be decrypted: that provider's models are
    skipped as not allowed (the routing already compiled for the readable key included), nothing reaches it."""
    openai, claude = servers
    openai.api_key = None  # any key answers: the keys sent are read instead
    set_providers(client, admin, [{"name": "cheap", "api_key": OWN_KEY}, {"name": "claude", "enabled": False}])
    before = len(openai.requests)
    headers = {**user, "Accept": "application/json"}
    body = {"input": {"text": "Some text."}}
    response = client.post("/api/skills/summarize/invoke", json=body, headers=headers)
    assert response.status_code == 200, response.get_json()
    assert authorizations(openai, before) == [f"Bearer {OWN_KEY}"]

    make_key_unreadable(app, "cheap", rotated)
    before = len(openai.requests)
    response = client.post("/api/skills/summarize/invoke", json=body, headers=headers)
    assert authorizations(openai, before) == [] and len(claude.requests) == 0
    assert response.status_code == 503, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == "all_models_failed" and error["details"]["attempts"] == []
    assert error["details"]["skipped"]["cheap/gpt-test"] == "model_not_allowed"


def test_a_row_that_no_longer_builds_is_reported_and_not_called(app, client, admin, servers):  # noqa: F811
    """The operator no longer allows the host of a tenant's own endpoint: its test says so without calling it."""
    from backend.auth.ttlcache import forget_rows
    from backend.catalog.tenant import CACHE_KEY

    openai, _ = servers
    set_providers(client, admin, [own_provider(openai.base_url, TEST_KEY)])
    app.config["ALLOWED_MODEL_HOSTS"] = ["models.example.com"]  # and restarts
    app.extensions.pop(CACHE_KEY, None)
    forget_rows()
    before = len(openai.requests)
    response = client.post("/api/admin/providers/ourgpu/test", headers=admin)
    assert response.get_json() == {"ok": False, "model": None, "error": "config_invalid", "status": None}
    assert len(openai.requests) == before
    listing = client.get("/api/admin/catalog", headers=admin).get_json()
    assert listing["unusable_providers"] == [{"name": "ourgpu", "reason": "config_invalid"}]
