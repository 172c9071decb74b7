"""A PATCH of `providers` alone is checked against the stored pins and data policy it keeps: one that would leave a
pin or a rule naming a provider or model the tenant no longer has is 422 at save time, naming it (it used to save,
then fail closed at call time)."""

from __future__ import annotations

import pytest

from backend.extensions import db
from backend.models import TenantSettings
from tests.auth_fixtures import TENANT_A, entra, make_token, signing_key, tenants  # noqa: F401
from tests.test_admin_api import app_config, own_provider  # noqa: F401
from tests.test_invoke import admin, servers, user  # noqa: F401

PIN_OWN = {"mode": "pinned", "pins": {"summarize": ["ourgpu/llama-70b"]}}
PIN_CHEAP = {"mode": "pinned", "pins": {"summarize": ["cheap/gpt-test"]}}
OWN_RULE = {"general": {"providers": ["*"]}, "confidential": {"providers": ["ourgpu"]}}


def save(client, admin, patch: dict) -> dict:  # noqa: F811
    """PATCH the settings and insist it worked."""
    response = client.patch("/api/admin/tenant", json=patch, headers=admin)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


@pytest.mark.parametrize(
    ("stored", "providers", "field", "named"),
    [
        ({"routing": PIN_OWN}, [], "routing/pins/summarize", "ourgpu/llama-70b"),
        ({"routing": PIN_CHEAP}, [own_provider(), {"name": "cheap", "allowed_models": []}], "routing/pins/summarize",
         "cheap/gpt-test"),
        ({"data_policy": OWN_RULE}, [], "data_policy/confidential/providers", "ourgpu"),
    ],
    ids=["pin-own-provider-removed", "pin-model-no-longer-allowed", "rule-own-provider-removed"],
)  # fmt: skip
def test_a_providers_change_that_strands_a_stored_reference_is_422(client, admin, stored, providers, field, named):  # noqa: F811
    save(client, admin, {"providers": [own_provider()]})
    version = save(client, admin, stored)["version"]
    response = client.patch("/api/admin/tenant", json={"providers": providers}, headers=admin)
    assert response.status_code == 422, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == "invalid_settings"
    assert [detail["field"] for detail in error["details"]] == [field]
    assert named in error["details"][0]["message"] and "saved" in error["details"][0]["message"]
    unchanged = client.get("/api/admin/tenant", headers=admin).get_json()
    assert unchanged["version"] == version and [p["name"] for p in unchanged["providers"]] == ["ourgpu"]


def test_the_same_change_saves_when_it_replaces_the_references_too(client, admin):  # noqa: F811
    save(client, admin, {"providers": [own_provider()]})
    save(client, admin, {"routing": PIN_OWN, "data_policy": OWN_RULE})
    after = save(client, admin, {"providers": [], "routing": {"mode": "cost"}, "data_policy": {}})
    assert after["providers"] == [] and after["routing"]["pins"] == {}


def test_the_consoles_provider_saves_still_pass_with_pins_and_rules_stored(client, admin):  # noqa: F811
    """The providers tab resends every provider it read: a toggle, a key, a new endpoint."""
    save(client, admin, {"providers": [own_provider()]})
    save(client, admin, {"routing": PIN_OWN, "data_policy": OWN_RULE})
    read = client.get("/api/admin/tenant", headers=admin).get_json()["providers"]
    resent = [{key: value for key, value in provider.items() if key != "api_key_set"} for provider in read]
    save(client, admin, {"providers": [*resent, {"name": "claude", "enabled": False}]})
    save(
        client, admin, {"providers": [{**resent[0], "api_key": "sk-another-key"}, {"name": "claude", "enabled": False}]}
    )
    endpoint = own_provider(name="second", api_key=None)
    save(client, admin, {"providers": [*resent, {"name": "claude", "enabled": False}, endpoint]})


def test_a_reference_broken_before_the_change_does_not_block_it(app, client, admin):  # noqa: F811
    """A pin to a model the operator has since removed is not this change's doing: it still fails closed at call time,
    and the routing tab's next save names it."""
    save(client, admin, {"routing": PIN_CHEAP})
    with app.app_context():
        db.session.get(TenantSettings, TENANT_A).routing = {"mode": "pinned", "pins": {"summarize": ["gone/model"]}}
        db.session.commit()
    save(client, admin, {"providers": [{"name": "claude", "enabled": False}]})
    gone = {"routing": {"mode": "pinned", "pins": {"summarize": ["gone/model"]}}}
    response = client.patch("/api/admin/tenant", json=gone, headers=admin)
    assert response.status_code == 422
