"""On-behalf-of Graph tokens through real MSAL, talking to the loopback Entra through its injectable HTTP client."""

from __future__ import annotations

import json
import uuid

import pytest
import requests
from flask import jsonify

from backend.auth import authenticated
from backend.auth.obo import graph_scopes, graph_token
from backend.crypto import secret_box
from backend.extensions import db
from backend.models import UserTokenCache
from tests.auth_fixtures import (  # noqa: F401 - fixtures
    TENANT_A,
    TENANT_B,
    bearer,
    entra_app_config,
    log_lines,
    make_token,
    signing_key,
    tenants,
)
from tests.fakes.entra import FakeEntra

PUBLIC_AUTHORITY = "https://login.microsoftonline.com"


class LoopbackSession(requests.Session):
    """Sends what MSAL (and key discovery) address to the real authority to the loopback Entra instead."""

    def __init__(self, loopback_base: str) -> None:
        super().__init__()
        self.loopback_base = loopback_base

    def request(self, method, url, *args, **kwargs):
        """Rewrite the authority's origin, keep everything else."""
        if url.startswith(PUBLIC_AUTHORITY + "/"):
            url = self.loopback_base + url[len(PUBLIC_AUTHORITY) :]
        return super().request(method, url, *args, **kwargs)


@pytest.fixture
def entra(signing_key):
    """A loopback Entra whose documents name the real https authority (MSAL accepts only https)."""
    from tests.auth_fixtures import SIGNING_KID

    with FakeEntra(public_base=PUBLIC_AUTHORITY) as fake:
        fake.publish(signing_key, SIGNING_KID)
        yield fake


@pytest.fixture
def http_client(entra):
    """The injected HTTP client, closed after the test."""
    with LoopbackSession(entra.base_url) as session:
        yield session


def obo_app_config(base: dict, entra, http_client) -> dict:
    """Production-shaped configuration: https authority, no http allowance, a client secret, the injected client."""
    return {
        **entra_app_config(base, entra),
        "ENTRA_AUTHORITY": PUBLIC_AUTHORITY,
        "ENTRA_ALLOW_HTTP_AUTHORITY": False,
        "ENTRA_CLIENT_SECRET": "client-secret-for-tests",
        "ENTRA_HTTP_CLIENT": http_client,
    }


@pytest.fixture
def app_config(app_config, entra, http_client) -> dict:
    """The test configuration, production-shaped for on-behalf-of calls."""
    return obo_app_config(app_config, entra, http_client)


@pytest.fixture
def graph_route(app):
    """A guarded test route that returns the caller's Graph token (what a Graph-calling view would do)."""

    @authenticated
    def caller_graph_token():
        return jsonify({"token": graph_token(graph_scopes("User.Read"))})

    app.add_url_rule("/api/test/graph-token", "test_graph_token", caller_graph_token)
    return "/api/test/graph-token"


def test_two_users_never_share_a_token_and_repeats_come_from_the_cache(
    app, client, tenants, make_token, entra, graph_route, log_lines
):
    """Each user gets their own Graph token; a second call of the same user does not reach the token endpoint."""
    alice, bob = str(uuid.uuid4()), str(uuid.uuid4())
    alice_token, bob_token = make_token(TENANT_A, alice), make_token(TENANT_A, bob)
    first = client.get(graph_route, headers=bearer(alice_token))
    assert first.status_code == 200, first.get_json()
    assert entra.hits["token"] == 1
    bobs = client.get(graph_route, headers=bearer(bob_token)).get_json()["token"]
    assert entra.hits["token"] == 2
    again = client.get(graph_route, headers=bearer(make_token(TENANT_A, alice))).get_json()["token"]
    assert entra.hits["token"] == 2  # served by acquire_token_silent from Alice's cache
    alices = first.get_json()["token"]
    assert alices == again and alices != bobs
    assert alices.startswith(f"graph-token:{alice}:") and bobs.startswith(f"graph-token:{bob}:")
    # The exchange was a real OBO request carrying the user's own token and the Graph scope.
    obo = entra.token_requests[0]
    assert obo["requested_token_use"] == "on_behalf_of" and obo["assertion"] == alice_token
    assert "https://graph.microsoft.com/User.Read" in obo["scope"].split()
    with app.app_context():
        rows = {row.object_id: row.cache_encrypted for row in db.session.query(UserTokenCache).all()}
        assert set(rows) == {alice, bob}
        assert all("graph-token" not in encrypted for encrypted in rows.values())  # encrypted at rest
        bobs_cache = secret_box().decrypt(rows[bob])
        assert bobs in bobs_cache and alices not in bobs_cache
    lines = log_lines()
    assert all(alice_token not in line and bob_token not in line and alices not in line for line in lines)


def test_same_object_id_in_two_tenants_has_two_caches(app, client, tenants, make_token, entra, graph_route):
    """The cache key is (tid, oid): a guest-like collision of oids across tenants never shares tokens."""
    object_id = str(uuid.uuid4())
    in_a = client.get(graph_route, headers=bearer(make_token(TENANT_A, object_id))).get_json()["token"]
    in_b = client.get(graph_route, headers=bearer(make_token(TENANT_B, object_id))).get_json()["token"]
    assert in_a != in_b and entra.hits["token"] == 2
    with app.app_context():
        assert db.session.query(UserTokenCache).filter_by(object_id=object_id).count() == 2


def test_interaction_required_becomes_401_with_the_claims_challenge(client, tenants, make_token, entra, graph_route):
    """Entra asks for MFA: the add-in gets 401 interaction_required and the claims to re-prompt with."""
    object_id = str(uuid.uuid4())
    entra.interaction_required_oids.add(object_id)
    response = client.get(graph_route, headers=bearer(make_token(TENANT_A, object_id)))
    assert response.status_code == 401
    error = response.get_json()["error"]
    assert error["code"] == "interaction_required" and error["message"]
    assert json.loads(error["details"]["claims"])["access_token"]["capolids"]["values"] == ["mfa-policy"]
    assert "AADSTS" not in response.get_data(as_text=True)
