"""The OpenAPI document: valid 3.1, generated from the URL map, complete, and honest about which routes need a token."""

from __future__ import annotations

import re

import pytest
from flask import Blueprint
from openapi_spec_validator import validate

from backend import create_app
from backend.openapi import build_spec, describe

DOCUMENTED = ("/api", "/metrics", "/addin")
IGNORED_METHODS = {"HEAD", "OPTIONS"}


@pytest.fixture
def app_config(app_config) -> dict:
    """Every optional route on, so the document is checked against all of them."""
    return {**app_config, "ENABLE_DIAGNOSTICS": True}


@pytest.fixture
def spec(client) -> dict:
    """The document as served."""
    reply = client.get("/api/openapi.json")
    assert reply.status_code == 200
    return reply.get_json()


def openapi_path(rule: str) -> str:
    """A Flask rule in OpenAPI's template syntax."""
    return re.sub(r"<(?:[a-z_]+:)?([A-Za-z_]\w*)>", r"{\1}", rule)


def test_the_served_document_is_valid_openapi_3_1(spec, app):
    assert spec["openapi"].startswith("3.1")
    validate(spec)  # raises with the first violation
    with app.app_context():
        assert spec == build_spec(app)


def test_every_route_appears_with_every_method(spec, app):
    expected = {
        (openapi_path(rule.rule), method.lower())
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith(DOCUMENTED)
        for method in rule.methods - IGNORED_METHODS
    }
    documented = {(path, method) for path, operations in spec["paths"].items() for method in operations}
    assert len(expected) > 20
    assert expected <= documented
    assert {"/api/_diagnostics/stream", "/addin/{filename}", "/metrics", "/api/jobs/{job_id}/events"} <= set(
        spec["paths"]
    )


def test_operation_ids_are_unique(spec):
    ids = [operation["operationId"] for operations in spec["paths"].values() for operation in operations.values()]
    assert len(ids) == len(set(ids))


def test_path_parameters_are_exactly_the_template_variables(spec):
    for path, operations in spec["paths"].items():
        variables = set(re.findall(r"{(\w+)}", path))
        for operation in operations.values():
            declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert declared == variables, (path, declared)


def concrete(path: str) -> str:
    """A requestable URL for a path template."""
    return re.sub(r"{\w+}", "00000000-0000-4000-8000-000000000000", path)


def test_declared_security_matches_what_the_running_app_demands(spec, client):
    # Ask every operation without a token: 401 exactly where the document declares a bearer token.
    public, protected = [], []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            reply = client.open(concrete(path), method=method.upper(), json={} if method != "get" else None)
            reply.close()  # a file response (the add-in's page) holds its file open until closed
            needs_token = reply.status_code == 401
            assert bool(operation["security"]) == needs_token, (method, path, reply.status_code)
            if needs_token:  # and 403: every token's tenant must be onboarded and active
                assert {"401", "403"} <= set(operation["responses"]), (method, path)
            (protected if needs_token else public).append(path)
    assert {"/api/health", "/api/openapi.json", "/metrics", "/addin/"} <= set(public)
    assert {"/api/me", "/api/skills/{skill_id}/invoke", "/api/jobs", "/api/admin/tenant"} <= set(protected)


def test_the_document_follows_the_code(app_config):
    baseline = build_spec(create_app(app_config))
    blueprint = Blueprint("extra", __name__)

    @blueprint.route("/api/widgets/<int:widget_id>", methods=["GET", "PUT"])
    @describe("A widget.", request={"type": "object"}, responses={404: "No such widget"}, tags=["widgets"])
    def widget(widget_id: int):
        """Never called."""

    changed_app = create_app(app_config)
    changed_app.register_blueprint(blueprint)
    changed = build_spec(changed_app)
    assert "/api/widgets/{widget_id}" not in baseline["paths"]
    operations = changed["paths"]["/api/widgets/{widget_id}"]
    assert set(operations) == {"get", "put"}
    assert operations["put"]["summary"] == "A widget." and operations["put"]["tags"] == ["widgets"]
    assert operations["put"]["security"] == [{"bearer": []}]
    assert operations["put"]["parameters"][0]["name"] == "widget_id"
    assert "404" in operations["get"]["responses"]
    assert {k: v for k, v in changed["paths"].items() if k != "/api/widgets/{widget_id}"} == baseline["paths"]
    validate(changed)


@pytest.mark.parametrize("path", ["/api/jobs", "/api/jobs/{job_id}/cancel"])
def test_an_accepted_answer_is_documented_as_202_with_its_body_not_200(spec, path):
    # The contract answers these with 202 (a job document); a generated client must not expect a 200.
    responses = spec["paths"][path]["post"]["responses"]
    assert "200" not in responses
    assert responses["202"]["content"]["application/json"]["schema"]["required"][:3] == ["id", "skill", "status"]


def test_a_queued_job_documents_its_location_header(spec):
    """The 202 of POST /api/jobs carries Location, the job's URL (tests/test_jobs_api.py checks the app sends it)."""
    accepted = spec["paths"]["/api/jobs"]["post"]["responses"]["202"]
    assert accepted["headers"]["Location"]["schema"] == {"type": "string"}
    assert "headers" not in spec["paths"]["/api/jobs/{job_id}/cancel"]["post"]["responses"]["202"]


def test_a_reused_idempotency_key_is_documented_as_409_in_the_error_shape(spec):
    """POST /api/jobs answers 409 idempotency_key_reused for a key already used for a different request."""
    conflict = spec["paths"]["/api/jobs"]["post"]["responses"]["409"]
    assert conflict["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}


def test_reading_the_settings_documents_no_answer_only_a_change_can_give(spec):
    tenant = spec["paths"]["/api/admin/tenant"]
    assert {"409", "422"} <= set(tenant["patch"]["responses"])
    assert not {"409", "422"} & set(tenant["get"]["responses"])
