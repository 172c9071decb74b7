"""Dev mode: a local key signs tokens that go through the same validation; loopback only; loud; refused when exposed."""

from __future__ import annotations

import logging
import os
import stat

import jwt
import pytest
from click.testing import CliRunner

from backend import create_app
from backend.auth.dev import DevModeRefused, check_bind, check_bind_host, dev_key_path, key_id, load_dev_key
from backend.cli import main
from backend.database import Base
from backend.extensions import db
from backend.models import Tenant
from tests.auth_fixtures import bearer
from tests.fakes.entra import new_rsa_key

DEV_TENANT = "00000000-0000-4000-8000-000000000001"


@pytest.fixture
def app_config(app_config) -> dict:
    """Dev mode, no Entra registration at all."""
    return {**app_config, "AUTH_MODE": "dev"}


def test_dev_token_endpoint_then_me_onboards_the_dev_tenant(app, client):
    """Out of the box: ask the loopback endpoint for a token, call /api/me with it."""
    response = client.post("/api/auth/dev-token", json={"user": "ada", "roles": ["tenant_admin"]})
    assert response.status_code == 200
    token = response.get_json()["access_token"]
    me = client.get("/api/me", headers=bearer(token))
    assert me.status_code == 200, me.get_json()
    body = me.get_json()
    assert body["tenant_id"] == DEV_TENANT and body["name"] == "ada" and body["roles"] == ["user", "tenant_admin"]
    assert body["tenant"]["status"] == "active"


@pytest.mark.parametrize(
    "environ, headers",
    [({"REMOTE_ADDR": "10.1.2.3"}, {}), ({}, {"X-Forwarded-For": "203.0.113.9"}), ({}, {"Forwarded": "for=1.2.3.4"})],
)
def test_dev_token_endpoint_answers_only_loopback(client, environ, headers):
    """A remote or proxied caller gets a 404, as if the endpoint did not exist."""
    response = client.post("/api/auth/dev-token", json={}, environ_base=environ, headers=headers)
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"


def test_dev_token_endpoint_is_absent_in_entra_mode(tmp_path, app_config):
    """In entra mode the endpoint is a 404 even from loopback."""
    app = create_app({**app_config, "AUTH_MODE": "entra"})
    assert app.test_client().post("/api/auth/dev-token", json={}).status_code == 404


def test_dev_tokens_pass_the_same_checks(app, client):
    """Dev mode changes who signs, nothing else: another key, a wrong audience or a missing scope are refused."""
    token = client.post("/api/auth/dev-token", json={}).get_json()["access_token"]
    claims = jwt.decode(token, options={"verify_signature": False})
    header = jwt.get_unverified_header(token)
    assert claims["iss"] == f"https://login.microsoftonline.com/{DEV_TENANT}/v2.0" and claims["scp"] == "access_as_user"
    forged = jwt.encode(claims, new_rsa_key(), algorithm="RS256", headers={"kid": header["kid"]})
    assert client.get("/api/me", headers=bearer(forged)).status_code == 401
    with app.app_context():
        key = load_dev_key(app)
    for change in ({"aud": "someone-else"}, {"scp": "User.Read"}, {"iss": claims["iss"] + "x"}):
        tampered = jwt.encode({**claims, **change}, key, algorithm="RS256", headers={"kid": header["kid"]})
        assert client.get("/api/me", headers=bearer(tampered)).status_code == 401


def test_dev_tokens_work_with_only_an_app_id_uri_configured(app_config):
    """A dev token is v2-shaped, so its audience is a client id (the dev one), never the App ID URI alone."""
    app = create_app({**app_config, "ENTRA_APP_ID_URI": "api://switchboard.example/dev"})
    with app.app_context():
        Base.metadata.create_all(db.engine)
    client = app.test_client()
    token = client.post("/api/auth/dev-token", json={}).get_json()["access_token"]
    assert client.get("/api/me", headers=bearer(token)).status_code == 200


def test_dev_key_lives_in_the_instance_folder_owner_only(app):
    """The key is made once, 0600, and reused."""
    with app.app_context():
        first = key_id(load_dev_key(app).public_key())
        second = key_id(load_dev_key(app).public_key())
    path = dev_key_path(app)
    assert first == second and path.parent == type(path)(app.instance_path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_dev_mode_refuses_a_public_bind_unless_forced(app_config):
    """0.0.0.0 or a LAN address is refused in dev mode, allowed when forced, and irrelevant in entra mode."""
    dev = create_app(app_config)
    for host in ("127.0.0.1", "localhost", "::1"):
        check_bind_host(dev, host)
    for host in ("0.0.0.0", "192.168.1.20", "example.org"):
        with pytest.raises(DevModeRefused):
            check_bind_host(dev, host)
    for bind in ("127.0.0.1:8000", "[::1]:8000", "localhost:1", "unix:/run/switchboard.sock"):
        check_bind(dev, bind)
    for bind in ("0.0.0.0:8000", "[::]:8000", "10.0.0.1:80"):
        with pytest.raises(DevModeRefused):
            check_bind(dev, bind)
    check_bind_host(create_app({**app_config, "AUTH_DEV_FORCE": True}), "0.0.0.0")
    check_bind_host(create_app({**app_config, "AUTH_MODE": "entra"}), "0.0.0.0")


def test_dev_mode_prints_a_warning_banner(app_config, caplog):
    """Starting in dev mode logs a loud warning."""
    caplog.set_level(logging.WARNING)
    create_app(app_config)
    assert any(r.levelno == logging.WARNING and "AUTH_MODE=dev" in r.getMessage() for r in caplog.records)


def test_unknown_auth_mode_is_refused(app_config):
    """A typo in AUTH_MODE stops the app instead of silently picking a mode."""
    with pytest.raises(ValueError):
        create_app({**app_config, "AUTH_MODE": "none"})


def _cli_env(app, mode: str = "dev") -> dict:
    return {
        "SWITCHBOARD_INSTANCE_PATH": app.instance_path,
        "SWITCHBOARD_DATABASE_URL": app.config["DATABASE_URL"],
        "SWITCHBOARD_SECRET_KEY": app.config["SECRET_KEY"],
        "SWITCHBOARD_AUTH_MODE": mode,
    }


def test_cli_dev_token_prints_only_the_token_and_it_works(app, client):
    """`switchboard dev-token` onboards the tenant and prints a token alone on stdout that the server accepts."""
    tenant = "cccccccc-0000-4000-8000-00000000000c"
    result = CliRunner().invoke(
        main, ["dev-token", "--tenant", tenant, "--user", "grace", "--role", "tenant_admin"], env=_cli_env(app)
    )
    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    assert result.stdout == token + "\n" and token.count(".") == 2
    body = client.get("/api/me", headers=bearer(token)).get_json()
    assert body["tenant_id"] == tenant and body["roles"] == ["user", "tenant_admin"] and body["name"] == "grace"
    with app.app_context():
        assert db.session.get(Tenant, tenant).status == "active"


def test_cli_dev_token_refuses_entra_mode(app):
    """Outside dev mode the command fails and prints no token."""
    result = CliRunner().invoke(main, ["dev-token"], env=_cli_env(app, mode="entra"))
    assert result.exit_code != 0 and result.stdout == ""


@pytest.mark.parametrize("command", [["dev-token"], ["jobs", "requeue"], ["tenants", "grant-admin", "x", "y"]])
def test_cli_commands_on_a_database_without_tables_say_to_migrate(app, tmp_path, command):
    """Before `switchboard db upgrade` a command that needs the database says so, with no traceback."""
    env = {**_cli_env(app), "SWITCHBOARD_DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite'}"}
    result = CliRunner().invoke(main, command, env=env)
    assert result.exit_code == 1 and result.stdout == ""
    assert "run `switchboard db upgrade` first" in result.stderr and "Traceback" not in result.output


class _Socket:
    """Stands in for the server's listening-side socket in the WSGI environ."""

    def __init__(self, address) -> None:
        self.address = address

    def getsockname(self):
        """The local address the request arrived on."""
        return self.address


@pytest.mark.parametrize("address, allowed", [(("10.0.0.5", 8000), False), (("127.0.0.1", 8000), True), ("/s", True)])
def test_dev_mode_serves_only_loopback_sockets(client, address, allowed):
    """Whatever started the server, a dev-mode request that arrived on a public socket is refused."""
    response = client.get("/api/me", environ_base={"werkzeug.socket": _Socket(address)})
    expected = (401, "unauthorized") if allowed else (503, "dev_mode_exposed")
    assert (response.status_code, response.get_json()["error"]["code"]) == expected
