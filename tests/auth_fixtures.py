"""Fixtures for the auth tests: a loopback Entra, keys made in the test, onboarded tenants and token factories.

Import the fixtures a test module needs by name (`from tests.auth_fixtures import app_config, entra, ...`).
"""

from __future__ import annotations

import logging
import uuid

import pytest

from backend.extensions import db
from backend.models import Tenant
from tests.fakes.entra import FakeEntra, access_token_claims, new_rsa_key, sign_token

CLIENT_ID = "5e0f6a3c-1111-4222-8333-944455556666"
APP_ID_URI = f"api://{CLIENT_ID}"
TENANT_A = "aaaaaaaa-0000-4000-8000-00000000000a"
TENANT_B = "bbbbbbbb-0000-4000-8000-00000000000b"
SIGNING_KID = "signing-key-1"


@pytest.fixture(scope="session")
def signing_key():
    """The key the fake Entra publishes and signs with."""
    return new_rsa_key()


@pytest.fixture(scope="session")
def stranger_key():
    """A key nobody publishes."""
    return new_rsa_key()


@pytest.fixture
def entra(signing_key):
    """A running loopback Entra publishing `signing_key`."""
    with FakeEntra() as fake:
        fake.publish(signing_key, SIGNING_KID)
        yield fake


def entra_app_config(base: dict, entra: FakeEntra) -> dict:
    """A test configuration pointed at the loopback Entra."""
    return {
        **base,
        "AUTH_MODE": "entra",
        "ENTRA_CLIENT_ID": CLIENT_ID,
        "ENTRA_APP_ID_URI": APP_ID_URI,
        "ENTRA_AUTHORITY": entra.base_url,
        "ENTRA_ALLOW_HTTP_AUTHORITY": True,
        "JWKS_REFETCH_COOLDOWN_SECONDS": 30,
    }


@pytest.fixture
def app_config(app_config, entra) -> dict:
    """The shared test configuration pointed at the loopback Entra."""
    return entra_app_config(app_config, entra)


@pytest.fixture
def tenants(app) -> tuple[str, str]:
    """Tenants A and B, both onboarded and active."""
    with app.app_context():
        db.session.add_all([Tenant(id=TENANT_A, name="Contoso"), Tenant(id=TENANT_B, name="Fabrikam")])
        db.session.commit()
    return TENANT_A, TENANT_B


@pytest.fixture
def make_token(entra, signing_key):
    """Build a signed v2 token: make_token(tenant, oid=None, key=..., kid=..., headers=..., **claim overrides)."""

    def build(tenant_id: str, object_id: str | None = None, *, key=None, kid=SIGNING_KID, headers=None, **claims):
        object_id = object_id or str(uuid.uuid4())
        base = access_token_claims(tenant_id, object_id, CLIENT_ID, f"{entra.documents_base()}/{tenant_id}/v2.0")
        base.update(claims)
        base = {name: value for name, value in base.items() if value is not None}
        return sign_token(key or signing_key, kid, base, headers)

    return build


@pytest.fixture
def log_lines(caplog):
    """Every log record of the test, formatted with its extra fields, at DEBUG level."""
    caplog.set_level(logging.DEBUG)

    def lines() -> list[str]:
        return [f"{r.getMessage()} {vars(r)}" for r in caplog.records]

    return lines


def bearer(token: str) -> dict[str, str]:
    """The Authorization header for a token."""
    return {"Authorization": f"Bearer {token}"}
