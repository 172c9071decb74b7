"""A settings 422 names the field and the rule it breaks, never what the admin typed: a key pasted into the wrong
field (a base_url, a list of names, a pin, a property the schema does not know) comes back in no error body, no log
record and no audit event."""

from __future__ import annotations

import pytest

from tests.auth_fixtures import TENANT_A, entra, log_lines, make_token, signing_key, tenants  # noqa: F401
from tests.test_admin_api import app_config, own_provider  # noqa: F401
from tests.test_invoke import admin, servers  # noqa: F401

PASTED = "sk-Pasted-Key-0f9e8d7c6b5a"  # mixed case, as real keys are
PASTED_HOST = PASTED.lower()  # a URL's host is compared in lower case

CASES = {
    "base_url host": (
        {"providers": [own_provider(base_url=f"https://{PASTED_HOST}.example/v1")]},
        "providers/0",
        "providers/0.base_url: must have a host listed in SWITCHBOARD_ALLOWED_MODEL_HOSTS",
    ),
    "allowed_models": (
        {"providers": [{"name": "cheap", "allowed_models": ["gpt-test", PASTED]}]},
        "providers/0/allowed_models",
        "entry 2 is an unknown model for this provider",
    ),
    "disabled_skills": (
        {"disabled_skills": ["summarize", PASTED]},
        "disabled_skills",
        "entry 2 is not an installed skill",
    ),
    "data_policy providers": (
        {"data_policy": {"confidential": {"providers": ["cheap", PASTED]}}},
        "data_policy/confidential/providers",
        "unknown provider (entry 2)",
    ),
    "pinned model": (
        {"routing": {"pins": {"summarize": ["cheap/gpt-test", f"cheap/{PASTED}"]}}},
        "routing/pins/summarize",
        "the model of pin 2 is unknown",
    ),
    "pinned skill": (
        {"routing": {"pins": {PASTED: [7]}}},
        "routing/pins/*/0",
        "must be of type string",
    ),
    "unknown property": (
        {PASTED: "on\0prem"},
        "*",
        "must not contain a NUL character",
    ),
}


@pytest.mark.parametrize(("patch", "field", "message"), list(CASES.values()), ids=list(CASES))
def test_a_key_pasted_into_the_wrong_field_is_named_by_its_field_never_echoed(client, admin, log_lines, patch, field,
                                                                               message):  # noqa: F811  # fmt: skip
    response = client.patch("/api/admin/tenant", json=patch, headers=admin)
    assert response.status_code == 422, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == "invalid_settings"
    assert {"field": field, "message": message} in error["details"], error["details"]
    body = response.get_data(as_text=True)
    assert PASTED not in body and PASTED_HOST not in body
    assert not [line for line in log_lines() if PASTED in line or PASTED_HOST in line]
    assert client.get("/api/admin/audit", headers=admin).get_json()["events"] == []
