"""Signing keys: discovery + JWKS cached, a rotated key accepted within one cooldown, unknown-kid floods bounded."""

from __future__ import annotations

import time
import uuid

import pytest

from backend.auth.signing_keys import EntraSigningKeys, KeySet, SigningKeysUnavailable, UnknownSigningKey
from tests.auth_fixtures import (  # noqa: F401 - fixtures
    TENANT_A,
    TENANT_B,
    bearer,
    entra,
    entra_app_config,
    make_token,
    signing_key,
    stranger_key,
    tenants,
)
from tests.fakes.entra import new_rsa_key, public_jwk

COOLDOWN = 1.0


@pytest.fixture
def cooldown() -> float:
    """The refetch cooldown of the app under test: long enough that a slow machine stays inside one window."""
    return 600.0


@pytest.fixture
def app_config(app_config, entra, cooldown) -> dict:
    """The loopback Entra with the chosen cooldown."""
    return {**entra_app_config(app_config, entra), "JWKS_REFETCH_COOLDOWN_SECONDS": cooldown}


def test_keys_are_cached_between_requests(client, tenants, make_token, entra):
    """Many valid requests cost one discovery and one key-set fetch."""
    for _ in range(5):
        assert client.get("/api/me", headers=bearer(make_token(TENANT_A))).status_code == 200
    assert entra.hits["discovery"] == 1 and entra.hits["jwks"] == 1


def test_unknown_kid_flood_inside_the_window_fetches_nothing(client, tenants, make_token, entra, stranger_key):
    """Fifty random kids right after a fetch cause no fetch, and the known key keeps working."""
    assert client.get("/api/me", headers=bearer(make_token(TENANT_A))).status_code == 200
    assert entra.hits["jwks"] == 1
    for _ in range(50):
        token = make_token(TENANT_A, key=stranger_key, kid=uuid.uuid4().hex)
        assert client.get("/api/me", headers=bearer(token)).status_code == 401
    assert entra.hits["jwks"] == 1
    assert client.get("/api/me", headers=bearer(make_token(TENANT_A))).status_code == 200


def test_flood_as_the_first_traffic_costs_one_fetch(client, tenants, make_token, entra, stranger_key):
    """A cold cache flooded with unknown kids fetches the key set once."""
    for _ in range(30):
        token = make_token(TENANT_B, key=stranger_key, kid=uuid.uuid4().hex)
        assert client.get("/api/me", headers=bearer(token)).status_code == 401
    assert entra.hits["jwks"] == 1


@pytest.mark.parametrize("cooldown", [COOLDOWN])
def test_rotated_key_is_accepted_within_one_cooldown(cooldown, client, tenants, make_token, entra):
    """Entra starts signing with a new key: accepted at the latest one cooldown after the last fetch, one fetch."""
    assert client.get("/api/me", headers=bearer(make_token(TENANT_A))).status_code == 200
    new_key = new_rsa_key()
    new_kid = entra.publish(new_key)
    deadline = time.monotonic() + cooldown + 10  # generous: a loaded machine is slow
    status = None
    while time.monotonic() < deadline:
        status = client.get("/api/me", headers=bearer(make_token(TENANT_A, key=new_key, kid=new_kid))).status_code
        if status == 200:
            break
        time.sleep(0.1)
    assert status == 200
    assert entra.hits["jwks"] == 2


class _Clock:
    """A hand-driven monotonic clock."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_key_set_window_semantics(signing_key):
    """Across many windows, random kids cost exactly one fetch per window; stale sets are refreshed."""
    fetches = []

    def http_get(url: str) -> dict:
        fetches.append(url)
        return {"keys": [public_jwk(signing_key, "known"), {"kty": "EC", "kid": "ec", "crv": "P-256"}]}

    clock = _Clock()
    keys = KeySet("https://keys.example/jwks", http_get, cooldown=30, max_age=3600, clock=clock)
    assert keys.key_for("known") is not None and len(fetches) == 1
    after_each_burst = []
    for _ in range(3):
        for _ in range(100):
            with pytest.raises(UnknownSigningKey):
                keys.key_for(uuid.uuid4().hex)
            clock.now += 0.1
        after_each_burst.append(len(fetches))
        clock.now += 30
    # The first burst follows a fetch (no refetch); each later burst starts a new window (one refetch).
    assert after_each_burst == [1, 2, 3]
    clock.now += 3600
    assert keys.key_for("known") is not None and len(fetches) == 4  # stale: refreshed
    with pytest.raises(UnknownSigningKey):
        keys.key_for("ec")  # not an RSA signing key: never usable
    assert len(fetches) == 4


@pytest.mark.parametrize(
    ("authority", "jwks_uri", "fetches"),
    [
        ("http://login.example.com", "http://login.example.com/keys", 0),  # not loopback: nothing fetched
        ("http://127.0.0.1:9", "http://keys.example.com/keys", 1),  # a loopback discovery may not send us away
    ],
)
def test_allowing_http_allows_it_for_loopback_only(authority, jwks_uri, fetches):
    """ENTRA_ALLOW_HTTP_AUTHORITY is for loopback tests: plain http to any other host stays refused."""
    fetched = []

    def http_get(url: str) -> dict:
        fetched.append(url)
        return {"jwks_uri": jwks_uri}

    keys = EntraSigningKeys(authority, http_get, cooldown=30, max_age=3600, allow_http=True)
    with pytest.raises(SigningKeysUnavailable):
        keys.key_for(TENANT_A, "kid")
    assert len(fetched) == fetches
