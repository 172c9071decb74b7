"""Token validation end to end: real RS256 tokens, a loopback discovery + JWKS server, every refusal in the list."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from backend.extensions import db
from backend.models import Tenant, User
from tests.auth_fixtures import (  # noqa: F401 - fixtures
    APP_ID_URI,
    CLIENT_ID,
    SIGNING_KID,
    TENANT_A,
    TENANT_B,
    app_config,
    bearer,
    entra,
    log_lines,
    make_token,
    signing_key,
    stranger_key,
    tenants,
)
from tests.fakes.entra import public_jwk


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unsigned(claims: dict, header: dict) -> str:
    return f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}."


def _hs256_with_public_key(claims: dict, public_key) -> str:
    """The classic confusion attack: HMAC keyed with the RSA public key's PEM."""
    pem = public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    signing_input = f"{_b64(json.dumps({'alg': 'HS256', 'typ': 'JWT', 'kid': SIGNING_KID}).encode())}."
    signing_input += _b64(json.dumps(claims).encode())
    signature = hmac.new(pem, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


def _claims(make_token, **overrides) -> dict:
    return jwt.decode(make_token(TENANT_A, **overrides), options={"verify_signature": False})


def _now() -> int:
    return int(time.time())


REFUSED = {
    "alg none": lambda mt, e, key, stranger: _unsigned(_claims(mt), {"alg": "none", "typ": "JWT", "kid": SIGNING_KID}),
    "HS256 keyed with the public key": lambda mt, e, key, stranger: _hs256_with_public_key(
        _claims(mt), key.public_key()
    ),
    "valid signature from an unknown key": lambda mt, e, key, stranger: mt(TENANT_A, key=stranger, kid="unknown"),
    "unknown key under a published kid": lambda mt, e, key, stranger: mt(TENANT_A, key=stranger),
    "wrong aud": lambda mt, e, key, stranger: mt(TENANT_A, aud="api://someone-else"),
    "issuer of another tenant": lambda mt, e, key, stranger: mt(TENANT_A, iss=f"{e.base_url}/{TENANT_B}/v2.0"),
    "issuer with extra characters": lambda mt, e, key, stranger: mt(TENANT_A, iss=f"{e.base_url}/{TENANT_A}/v2.0x"),
    "issuer with extra path": lambda mt, e, key, stranger: mt(TENANT_A, iss=f"{e.base_url}/{TENANT_A}/v2.0/evil"),
    "v1 issuer with extra characters": lambda mt, e, key, stranger: mt(
        TENANT_A, iss=f"https://sts.windows.net/{TENANT_A}/x", aud=APP_ID_URI
    ),
    "expired": lambda mt, e, key, stranger: mt(TENANT_A, iat=_now() - 7200, nbf=_now() - 7200, exp=_now() - 600),
    "not yet valid": lambda mt, e, key, stranger: mt(TENANT_A, nbf=_now() + 600),
    "issued in the future": lambda mt, e, key, stranger: mt(TENANT_A, iat=_now() + 600, nbf=None),
    "missing exp": lambda mt, e, key, stranger: mt(TENANT_A, exp=None),
    "missing scp": lambda mt, e, key, stranger: mt(TENANT_A, scp=None),
    "app-only token with roles but no scp": lambda mt, e, key, stranger: mt(TENANT_A, scp=None, roles=["Tenant.Admin"]),
    "scp without access_as_user": lambda mt, e, key, stranger: mt(TENANT_A, scp="User.Read access_as_user_x"),
    "embedded jwk header (attacker key)": lambda mt, e, key, stranger: mt(
        TENANT_A, key=stranger, headers={"jwk": public_jwk(stranger, SIGNING_KID)}
    ),
    "embedded jwk header (even with our key)": lambda mt, e, key, stranger: mt(
        TENANT_A, headers={"jwk": public_jwk(key, SIGNING_KID)}
    ),
    "jku header": lambda mt, e, key, stranger: mt(TENANT_A, headers={"jku": f"{e.base_url}/evil/keys"}),
    "x5u header": lambda mt, e, key, stranger: mt(TENANT_A, headers={"x5u": f"{e.base_url}/evil.pem"}),
    "x5c header": lambda mt, e, key, stranger: mt(TENANT_A, headers={"x5c": ["MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8A"]}),
    "unknown crit": lambda mt, e, key, stranger: mt(TENANT_A, headers={"crit": ["urn:evil"], "urn:evil": True}),
    "crit b64 (unsupported here)": lambda mt, e, key, stranger: mt(TENANT_A, headers={"crit": ["b64"], "b64": True}),
    "missing oid": lambda mt, e, key, stranger: mt(TENANT_A, oid=None),
    "missing tid": lambda mt, e, key, stranger: mt(TENANT_A, tid=None),
    "tid not a GUID": lambda mt, e, key, stranger: mt(TENANT_A, tid="../../common"),
    "missing kid": lambda mt, e, key, stranger: mt(TENANT_A, kid=None),
    "v2 issuer with the App ID URI audience": lambda mt, e, key, stranger: mt(TENANT_A, aud=APP_ID_URI),
    "audience list that includes ours": lambda mt, e, key, stranger: mt(TENANT_A, aud=[CLIENT_ID, "api://other"]),
    "app-only token (idtyp app) even with the scope": lambda mt, e, key, stranger: mt(TENANT_A, idtyp="app"),
    "far larger than any Entra token": lambda mt, e, key, stranger: mt(TENANT_A, padding="x" * 20_000),
    "garbage": lambda mt, e, key, stranger: "garbage-that-is-not-a-jwt",
    "three garbage segments": lambda mt, e, key, stranger: "abc.def.ghi",
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_refused_with_401_and_never_logged(
    case, client, tenants, make_token, entra, signing_key, stranger_key, log_lines
):
    """Each bad token answers 401 in the contract's shape, and no log line contains it."""
    token = REFUSED[case](make_token, entra, signing_key, stranger_key)
    response = client.get("/api/me", headers=bearer(token))
    assert response.status_code == 401, response.get_json()
    body = response.get_json()
    assert set(body) == {"error"} and body["error"]["code"] == "invalid_token" and body["error"]["message"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert token not in response.get_data(as_text=True)
    assert any("token refused" in line for line in log_lines())
    signature = token.rsplit(".", 1)[-1] or token
    assert all(token not in line and (len(signature) < 8 or signature not in line) for line in log_lines())


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": ""},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer   "},
        {"Authorization": "Basic x"},
    ],
)
def test_missing_or_empty_bearer_is_401(headers, client, tenants):
    """No token, an empty bearer, or another scheme: 401 in the contract's shape."""
    response = client.get("/api/me", headers=headers)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"


def test_tenant_not_onboarded_is_403(client, tenants, make_token, log_lines, entra):
    """A well-signed token of a tenant we never onboarded: 403, its signature checked against Entra's common key set,
    and no discovery made for its tenant."""
    stranger_tenant = str(uuid.uuid4())
    token = make_token(stranger_tenant)
    response = client.get("/api/me", headers=bearer(token))
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "tenant_not_onboarded"
    assert all(token not in line for line in log_lines())
    assert entra.hits[f"discovery/{stranger_tenant}"] == 0 and entra.hits["discovery/common"] == 1


def test_a_forged_token_cannot_tell_whether_a_tenant_is_onboarded(client, tenants, make_token, stranger_key):
    """Forged tokens naming an onboarded tenant and a stranger both get 401: without a genuine token nobody learns
    which organisations use Switchboard."""
    for tenant in (TENANT_A, str(uuid.uuid4())):
        forged = make_token(tenant, key=stranger_key)
        response = client.get("/api/me", headers=bearer(forged))
        assert (response.status_code, response.get_json()["error"]["code"]) == (401, "invalid_token")


def test_disabled_tenant_is_403_at_once(app, client, tenants, make_token, log_lines):
    """A user who was just served is refused on the next request after the tenant is disabled."""
    token = make_token(TENANT_A)
    assert client.get("/api/me", headers=bearer(token)).status_code == 200
    with app.app_context():
        db.session.get(Tenant, TENANT_A).status = "disabled"
        db.session.commit()
    response = client.get("/api/me", headers=bearer(token))
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "tenant_disabled"
    with app.app_context():
        db.session.get(Tenant, TENANT_A).status = "pending"
        db.session.commit()
    assert client.get("/api/me", headers=bearer(token)).status_code == 403
    assert all(token not in line for line in log_lines())


def test_tenant_status_is_told_only_to_genuine_tokens(app, client, tenants, make_token, stranger_key):
    """A forged token naming a disabled tenant gets 401, not the tenant's status."""
    with app.app_context():
        db.session.get(Tenant, TENANT_B).status = "disabled"
        db.session.commit()
    forged = make_token(TENANT_B, key=stranger_key)
    assert client.get("/api/me", headers=bearer(forged)).status_code == 401
    assert client.get("/api/me", headers=bearer(make_token(TENANT_B))).status_code == 403


def test_valid_v2_token_is_accepted(client, tenants, make_token):
    """A v2 token (aud = client id, v2 issuer) gets /api/me per API.md."""
    object_id = str(uuid.uuid4())
    response = client.get("/api/me", headers=bearer(make_token(TENANT_A, object_id, name="Ada Lovelace")))
    assert response.status_code == 200
    body = response.get_json()
    assert body["tenant_id"] == TENANT_A and body["name"] == "Ada Lovelace" and body["roles"] == ["user"]
    assert body["tenant"] == {"name": "Contoso", "status": "active"}
    assert len(body["user_id"]) == 32


def test_valid_v1_token_is_accepted(client, tenants, make_token):
    """A v1 token (aud = App ID URI, sts.windows.net issuer) is accepted too."""
    token = make_token(TENANT_B, aud=APP_ID_URI, iss=f"https://sts.windows.net/{TENANT_B}/", ver="1.0")
    response = client.get("/api/me", headers=bearer(token))
    assert response.status_code == 200
    assert response.get_json()["tenant_id"] == TENANT_B


def test_v1_token_may_name_the_client_id_as_audience(client, tenants, make_token):
    """A v1 token's aud is whichever resource the client asked for: the App ID URI or the client id."""
    token = make_token(TENANT_A, aud=CLIENT_ID, iss=f"https://sts.windows.net/{TENANT_A}/", ver="1.0", idtyp="user")
    assert client.get("/api/me", headers=bearer(token)).status_code == 200


@pytest.mark.parametrize("roles", ["Tenant.Admin", {"Tenant.Admin": True}, ["tenant.admin"], ["Tenant.Admin.x"]])
def test_roles_that_are_not_a_list_naming_tenant_admin_grant_nothing(client, tenants, make_token, roles):
    """Only a `roles` list holding exactly Tenant.Admin makes an admin; a string, an object or a near miss do not."""
    response = client.get("/api/me", headers=bearer(make_token(TENANT_A, roles=roles)))
    assert response.status_code == 200 and response.get_json()["roles"] == ["user"]


def test_users_are_upserted_by_tid_and_oid(app, client, tenants, make_token):
    """The same oid in two tenants is two users; the same (tid, oid) twice is one row, renamed."""
    object_id = str(uuid.uuid4())
    first = client.get("/api/me", headers=bearer(make_token(TENANT_A, object_id, name="Old"))).get_json()
    again = client.get("/api/me", headers=bearer(make_token(TENANT_A, object_id, name="New"))).get_json()
    other = client.get("/api/me", headers=bearer(make_token(TENANT_B, object_id, name="New"))).get_json()
    assert first["user_id"] == again["user_id"] != other["user_id"]
    assert again["name"] == "New"
    with app.app_context():
        assert db.session.query(User).filter_by(object_id=object_id).count() == 2


def test_admin_role_from_app_role_or_operator_grant(app, client, tenants, make_token):
    """Tenant.Admin in `roles` or an operator's grant make a tenant_admin; others get 403 on admin routes."""
    admin = make_token(TENANT_A, roles=["Tenant.Admin"])
    assert client.get("/api/me", headers=bearer(admin)).get_json()["roles"] == ["user", "tenant_admin"]
    assert client.get("/api/auth/consent-url", headers=bearer(admin)).status_code == 200
    object_id = str(uuid.uuid4())
    plain = make_token(TENANT_A, object_id)
    response = client.get("/api/auth/consent-url", headers=bearer(plain))
    assert response.status_code == 403 and response.get_json()["error"]["code"] == "forbidden"
    with app.app_context():
        db.session.query(User).filter_by(object_id=object_id).one().admin_granted = True
        db.session.commit()
    assert client.get("/api/me", headers=bearer(plain)).get_json()["roles"] == ["user", "tenant_admin"]
    assert client.get("/api/auth/consent-url", headers=bearer(plain)).status_code == 200
