"""A tenant may narrow a platform model (a smaller context window or output limit, fewer capabilities), never widen
it: over HTTP, against the loopback fake providers. The platform's `cheap/gpt-test` has a 32000-token window, 8192
output tokens and only `streaming`."""

from __future__ import annotations

import pytest

from backend.extensions import db
from backend.models import TenantProvider
from tests.auth_fixtures import TENANT_A, entra, make_token, signing_key, tenants  # noqa: F401
from tests.test_admin_api import TENANT_KEY, app_config, own_provider  # noqa: F401
from tests.test_invoke import admin, invoke, servers, sse_events, user  # noqa: F401

TENANT_URL = "http://gpu.internal.example:8000/v1"  # an allowed host: the tenant's own endpoint
ALL_CAPABILITIES = ["streaming", "json_schema", "tools"]


def patch_providers(client, admin, providers: list[dict]):  # noqa: F811
    """PATCH the tenant's providers list."""
    return client.patch("/api/admin/tenant", json={"providers": providers}, headers=admin)


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"context_window": 64000}, "context_window"),
        ({"context_window": 32000, "max_output_tokens": 16384}, "max_output_tokens"),
        ({"context_window": 32000, "capabilities": ["streaming", "json_schema"]}, "capabilities"),
    ],
)
@pytest.mark.parametrize("key", [{}, {"api_key": TENANT_KEY}], ids=["platform-key", "own-key"])
def test_widening_a_platform_model_is_422_naming_the_field(client, admin, override, field, key):  # noqa: F811
    """At the platform's URL the model is the platform's, whoever's key pays: a wider claim would route calls the
    provider refuses."""
    entry = {"name": "cheap", **key, "models": [{"id": "gpt-test", **override}]}
    response = patch_providers(client, admin, [entry])
    assert response.status_code == 422, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == "invalid_settings"
    assert [d["field"] for d in error["details"]] == [f"providers/0/models/0/{field}"]
    assert "cheap/gpt-test" in error["details"][0]["message"] and "platform" in error["details"][0]["message"]
    assert TENANT_KEY not in response.get_data(as_text=True)


def test_narrowing_a_platform_model_is_saved_and_routes_by_it(client, admin, user):  # noqa: F811
    """Without `streaming` the platform's cheap model no longer serves a streamed summary: the dearer claude answers."""
    narrowed = {"id": "gpt-test", "context_window": 16000, "max_output_tokens": 1024, "capabilities": []}
    assert patch_providers(client, admin, [{"name": "cheap", "models": [narrowed]}]).status_code == 200
    response = invoke(client, user, stream=True)
    assert response.status_code == 200
    meta = next(data for event, data in sse_events(response.data) if event == "meta")
    assert meta["model"]["provider"] == "claude"


@pytest.mark.parametrize(
    "entry",
    [
        {"name": "cheap", "api_key": TENANT_KEY, "base_url": TENANT_URL,
         "models": [{"id": "gpt-test", "context_window": 128000, "capabilities": ALL_CAPABILITIES}]},
        own_provider(models=[{"id": "llama-70b", "context_window": 1_000_000, "max_output_tokens": 100_000,
                              "capabilities": ALL_CAPABILITIES}]),
    ],
    ids=["platform-provider-at-own-url", "own-provider"],
)  # fmt: skip
def test_a_tenant_endpoint_declares_what_it_serves(client, admin, entry):  # noqa: F811
    assert patch_providers(client, admin, [entry]).status_code == 200


def test_a_widening_stored_before_the_rule_is_shown_but_routed_with_the_platform_limits(
    app,
    client,
    admin,  # noqa: F811
    user,  # noqa: F811
    servers,  # noqa: F811
    sdks_loaded,
):
    """A row saved while widening was allowed: GET shows it as stored, routing uses the platform's (narrower) facts,
    and the console may send it back unchanged; a new or changed widening is refused."""
    widened = [{"id": "gpt-test", "context_window": 1_000_000, "capabilities": ["streaming", "json_schema"]}]
    with app.app_context():
        db.session.add(TenantProvider(tenant_id=TENANT_A, name="cheap", type=None, enabled=True, models=widened))
        db.session.commit()
    shown = client.get("/api/admin/tenant", headers=admin).get_json()["providers"]
    assert shown[0]["models"] == widened

    openai, _ = servers
    openai.script(reply='{"edits": []}')
    response = invoke(client, user, skill="proofread")  # structured: JSON-schema mode only where the model has it
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["model"]["provider"] == "cheap"
    assert ["response_format" in request.body for request in openai.requests] == [False]

    resent = [{key: value for key, value in provider.items() if key != "api_key_set"} for provider in shown]
    assert patch_providers(client, admin, [{**resent[0], "enabled": False}]).status_code == 200
    wider = [{**widened[0], "context_window": 2_000_000}]
    response = patch_providers(client, admin, [{**resent[0], "models": wider}])
    assert response.status_code == 422
    assert response.get_json()["error"]["details"][0]["field"] == "providers/0/models/0/context_window"
