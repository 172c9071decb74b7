"""Every route x two tenants x {user, tenant admin, no token}: no unauthorised 2xx.

Routes are discovered from app.url_map, so routes added later are covered without editing this file. Path
parameters are filled with ids of the OTHER tenant's objects. Public routes are an explicit allow-list.
"""

from __future__ import annotations

import re
import uuid

import pytest
from flask import Flask, jsonify

from backend.extensions import db
from backend.models import AuditEvent, Job, JobStep, SkillRun, TenantProvider, User
from tests.auth_fixtures import (  # noqa: F401 - fixtures
    TENANT_A,
    TENANT_B,
    app_config,
    bearer,
    entra,
    make_token,
    signing_key,
    tenants,
)

# Routes anyone may call. Each must still never leak tenant data; the ones below are checked further.
PUBLIC_ROUTES = {
    "/api/health",
    "/api/openapi.json",
    "/metrics",
    "/static/<path:filename>",
    "/addin",  # the task pane's static files: no tenant data, and the browser fetches them before sign-in
    "/addin/",
    "/addin/<path:filename>",
    "/api/auth/consent/callback",  # needs a state we signed; checked below: 400 without one
    "/api/auth/dev-token",  # dev mode and loopback only; checked below: 404 in entra mode
}
NEVER_2XX_WITHOUT_CONTEXT = {"/api/auth/consent/callback", "/api/auth/dev-token"}
ROLES = ("user", "tenant_admin", "anonymous")
_PARAM = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


def seed_objects(tenant_id: str) -> list[str]:
    """Rows of every tenant-owned kind for one tenant; returns the ids a URL could name."""
    user = User(tenant_id=tenant_id, object_id=str(uuid.uuid4()), display_name="Owner")
    db.session.add(user)
    db.session.flush()
    job = Job(tenant_id=tenant_id, user_id=user.id, skill_id="summarize_document", status="succeeded", output="x")
    provider = TenantProvider(tenant_id=tenant_id, name=f"p-{tenant_id[:4]}", type="openai")
    audit = AuditEvent(tenant_id=tenant_id, actor="operator:cli", action="test.seed")
    db.session.add_all([job, provider, audit])
    db.session.flush()
    run = SkillRun(tenant_id=tenant_id, user_id=user.id, skill_id="summarize", job_id=job.id)
    step = JobStep(tenant_id=tenant_id, job_id=job.id, key="map:0001")
    db.session.add_all([run, step])
    db.session.commit()
    return [job.id, run.id, audit.id, provider.id, provider.name, user.id, user.object_id, step.id, tenant_id]


def route_calls(app: Flask, foreign_ids: list[str]):
    """(rule, method, url) for every route and method, path parameters filled with each foreign id."""
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            if not rule.arguments:
                yield rule, method, rule.rule
                continue
            for value in foreign_ids:
                yield rule, method, _PARAM.sub(value, rule.rule)


def matrix_violations(app: Flask, client, tokens: dict, foreign_ids: dict) -> list[str]:
    """Call every route as every caller; describe each answer that grants what it must not."""
    violations = []
    for (tenant_id, role), token in tokens.items():
        headers = bearer(token) if token else {}
        for rule, method, url in route_calls(app, foreign_ids[tenant_id]):
            response = client.open(url, method=method, headers=headers, json={} if method != "GET" else None)
            status = response.status_code
            response.close()  # file responses (static assets) hold an open file until closed
            where = f"{method} {url} as {role} of {tenant_id[:8]} -> {status}"
            if rule.rule in PUBLIC_ROUTES:
                if rule.rule in NEVER_2XX_WITHOUT_CONTEXT and 200 <= status < 300:
                    violations.append(where)
                continue
            view = app.view_functions[rule.endpoint]
            if getattr(view, "required_role", None) is None:
                violations.append(f"{where}: view not guarded by authenticated/require_role")
            if role == "anonymous" and status != 401:
                violations.append(f"{where}: expected 401 without a token")
            admin_only = view_required_role(view) == "tenant_admin" or rule.rule.startswith("/api/admin")
            if role == "user" and admin_only and 200 <= status < 300:
                violations.append(f"{where}: admin route answered a plain user")
            if rule.arguments and 200 <= status < 300:
                violations.append(f"{where}: another tenant's object answered")
    return violations


def view_required_role(view) -> str | None:
    """The role a guarded view requires."""
    return getattr(view, "required_role", None)


@pytest.fixture
def matrix(app, tenants, make_token):
    """Tokens of both tenants for every role, and each tenant's view of the other's object ids."""
    with app.app_context():
        ids = {TENANT_A: seed_objects(TENANT_A), TENANT_B: seed_objects(TENANT_B)}
    tokens = {}
    for tenant_id in (TENANT_A, TENANT_B):
        tokens[(tenant_id, "user")] = make_token(tenant_id)
        tokens[(tenant_id, "tenant_admin")] = make_token(tenant_id, roles=["Tenant.Admin"])
        tokens[(tenant_id, "anonymous")] = None
    foreign = {TENANT_A: ids[TENANT_B], TENANT_B: ids[TENANT_A]}
    return tokens, foreign


def test_no_route_grants_what_it_must_not(app, client, matrix):
    """The whole app: every route, both tenants, every role."""
    tokens, foreign = matrix
    assert len(list(route_calls(app, ["x"]))) >= 5  # the matrix really walks the app
    assert matrix_violations(app, client, tokens, foreign) == []


def test_matrix_catches_an_unguarded_route_and_a_leak(app, client, matrix):
    """The checker itself fails on a route without the decorator, and on one that serves another tenant's job."""
    from backend.auth import authenticated

    def leaky(job_id: str):
        return jsonify({"id": job_id})

    @authenticated
    def trusting(job_id: str):
        return jsonify({"id": job_id})  # answers for any id without loading the (scoped) row

    app.add_url_rule("/api/leaky/<job_id>", "leaky", leaky)
    app.add_url_rule("/api/trusting/<job_id>", "trusting", trusting)
    tokens, foreign = matrix
    violations = matrix_violations(app, client, tokens, foreign)
    assert any("/api/leaky/" in v and "not guarded" in v for v in violations)
    assert any("/api/leaky/" in v and "expected 401" in v for v in violations)
    assert any("/api/trusting/" in v and "another tenant's object" in v for v in violations)
