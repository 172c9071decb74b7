"""Onboarding: admin-consent URL and callback, and `switchboard tenants add|list|disable|enable|grant-admin`."""

from __future__ import annotations

import uuid
from urllib.parse import parse_qs, urlsplit

import pytest
from click.testing import CliRunner

from backend.auth.onboarding import admin_consent_url, tenant_from_state
from backend.cli import main
from backend.extensions import db
from backend.models import AuditEvent, Tenant, User
from tests.auth_fixtures import (  # noqa: F401 - fixtures
    CLIENT_ID,
    TENANT_A,
    app_config,
    bearer,
    entra,
    make_token,
    signing_key,
    tenants,
)


def _consent_state(client, make_token) -> tuple[str, str]:
    """An admin of tenant A asks for the consent URL; returns (url, state)."""
    response = client.get("/api/auth/consent-url", headers=bearer(make_token(TENANT_A, roles=["Tenant.Admin"])))
    assert response.status_code == 200
    url = response.get_json()["url"]
    return url, parse_qs(urlsplit(url).query)["state"][0]


def test_consent_url_names_our_app_the_tenant_and_our_callback(client, tenants, make_token, entra):
    """The URL goes to the tenant's adminconsent endpoint with our client id and callback."""
    url, _ = _consent_state(client, make_token)
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{entra.base_url}/{TENANT_A}/adminconsent"
    assert query["client_id"] == [CLIENT_ID]
    assert query["redirect_uri"][0].endswith("/api/auth/consent/callback")


def test_callback_records_consent_with_the_configured_status(app, client, tenants, make_token):
    """A signed state for the tenant that consented: recorded (already onboarded: unchanged), audited."""
    _, state = _consent_state(client, make_token)
    with app.app_context():
        db.session.delete(db.session.get(Tenant, TENANT_A))
        db.session.commit()
    query = {"admin_consent": "True", "tenant": TENANT_A, "state": state}
    response = client.get("/api/auth/consent/callback", query_string=query)
    assert response.status_code == 200
    assert response.get_json() == {"tenant_id": TENANT_A, "status": "pending"}
    with app.app_context():
        assert db.session.query(AuditEvent).filter_by(tenant_id=TENANT_A, action="tenant.consented").count() == 1
    # A pending tenant's users are not let in yet.
    assert client.get("/api/me", headers=bearer(make_token(TENANT_A))).status_code == 403


@pytest.mark.parametrize(
    "query",
    [
        {"admin_consent": "True", "tenant": TENANT_A, "state": "forged"},
        {"admin_consent": "True", "tenant": str(uuid.uuid4()), "state": None},  # a state issued for another tenant
        {"error": "access_denied", "tenant": TENANT_A, "state": None},
        {"tenant": TENANT_A, "state": None},
    ],
)
def test_callback_refuses_forged_foreign_or_refused_consent(app, client, tenants, make_token, query):
    """No tenant is created from a state we did not sign, or signed for another tenant, or a refusal."""
    _, state = _consent_state(client, make_token)
    query = {k: (state if v is None else v) for k, v in query.items()}
    response = client.get("/api/auth/consent/callback", query_string=query)
    assert response.status_code == 400 and response.get_json()["error"]["code"]
    with app.app_context():
        assert db.session.query(Tenant).count() == 2


@pytest.mark.parametrize("fallback", [True, False])
def test_a_consent_link_issued_before_a_key_rotation_still_works_with_the_old_key_as_fallback(
    app, client, tenants, make_token, fallback
):
    """The state is signed with SECRET_KEY; after a rotation it verifies while the old key is a fallback, not after."""
    _, state = _consent_state(client, make_token)
    old_key = app.config["SECRET_KEY"]
    app.config["SECRET_KEY"] = "the-new-key-after-a-rotation"
    app.config["SECRET_KEY_FALLBACKS"] = [old_key] if fallback else []
    with app.app_context():
        db.session.delete(db.session.get(Tenant, TENANT_A))
        db.session.commit()
    query = {"admin_consent": "True", "tenant": TENANT_A, "state": state}
    response = client.get("/api/auth/consent/callback", query_string=query)
    assert response.status_code == (200 if fallback else 400)
    app.config["SECRET_KEY_FALLBACKS"] = []  # links issued now are signed with the new key alone
    with app.test_request_context():
        new_state = parse_qs(urlsplit(admin_consent_url(TENANT_A, "https://x/cb")).query)["state"][0]
        assert tenant_from_state(new_state) == TENANT_A


def _env(app) -> dict:
    return {
        "SWITCHBOARD_INSTANCE_PATH": app.instance_path,
        "SWITCHBOARD_DATABASE_URL": app.config["DATABASE_URL"],
        "SWITCHBOARD_SECRET_KEY": app.config["SECRET_KEY"],
    }


def test_tenants_cli_lifecycle(app, client, make_token):
    """add -> list -> users get in; disable -> 403 on the next request; enable -> back; grant-admin -> admin."""
    runner, env = CliRunner(), _env(app)
    added = runner.invoke(main, ["tenants", "add", TENANT_A, "--name", "Contoso"], env=env)
    assert added.exit_code == 0, added.output
    listed = runner.invoke(main, ["tenants", "list"], env=env)
    assert listed.stdout == f"{TENANT_A}\tactive\tContoso\n"
    object_id = str(uuid.uuid4())
    token = make_token(TENANT_A, object_id)
    assert client.get("/api/me", headers=bearer(token)).get_json()["roles"] == ["user"]
    assert runner.invoke(main, ["tenants", "disable", TENANT_A], env=env).exit_code == 0
    assert client.get("/api/me", headers=bearer(token)).status_code == 403
    assert runner.invoke(main, ["tenants", "enable", TENANT_A], env=env).exit_code == 0
    assert client.get("/api/me", headers=bearer(token)).status_code == 200
    granted = runner.invoke(main, ["tenants", "grant-admin", TENANT_A, object_id], env=env)
    assert granted.exit_code == 0, granted.output
    assert client.get("/api/me", headers=bearer(token)).get_json()["roles"] == ["user", "tenant_admin"]
    with app.app_context():
        actions = [e.action for e in db.session.query(AuditEvent).order_by(AuditEvent.created_at)]
        assert actions == ["tenant.added", "tenant.status", "tenant.status", "user.admin_granted"]
        assert db.session.query(User).filter_by(object_id=object_id).one().admin_granted


def test_tenants_cli_refuses_bad_input(app):
    """A non-GUID tenant id or an unknown tenant is an error, not a silent no-op."""
    runner, env = CliRunner(), _env(app)
    assert runner.invoke(main, ["tenants", "add", "contoso", "--name", "C"], env=env).exit_code != 0
    assert runner.invoke(main, ["tenants", "disable", str(uuid.uuid4())], env=env).exit_code != 0
    with app.app_context():
        assert db.session.query(Tenant).count() == 0
