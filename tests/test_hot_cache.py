"""The request path's short-lived caches: verified tokens, tenant status, users (backend/auth/ttlcache.py)."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import update

from backend.auth.ttlcache import TtlCache
from backend.extensions import db
from backend.models import Tenant
from tests.auth_fixtures import TENANT_A, app_config, bearer, entra, make_token, signing_key, tenants  # noqa: F401

USER = "0b1c2d3e-0000-4000-8000-0000000000c1"


@pytest.fixture
def cached_config(app_config):  # noqa: F811
    """The loopback-Entra configuration with a short cache TTL."""
    return {**app_config, "HOT_CACHE_SECONDS": 0.4}


@pytest.fixture
def cached_client(cached_config, tenants):  # noqa: F811
    """A client of an app built with the cached configuration (the `app` fixture's schema)."""
    from backend import create_app

    return create_app(cached_config).test_client()


def test_ttl_cache_expires_and_zero_turns_it_off():
    cache = TtlCache(0.05)
    cache.put("k", 1)
    assert cache.get("k") == 1
    time.sleep(0.06)
    assert cache.get("k") is None
    off = TtlCache(0)
    off.put("k", 1)
    off.put("k2", 2, ttl=100)
    assert off.get("k") is None and off.get("k2") is None


def test_a_cached_token_still_refuses_other_bytes(cached_client, make_token):  # noqa: F811
    token = make_token(TENANT_A, USER)
    assert cached_client.get("/api/me", headers=bearer(token)).status_code == 200
    assert cached_client.get("/api/me", headers=bearer(token)).status_code == 200  # from the cache
    head, payload, signature = token.split(".")
    forged = f"{head}.{payload}.{signature[:-4]}AAAA"
    assert cached_client.get("/api/me", headers=bearer(forged)).status_code == 401


def test_a_tenant_disabled_elsewhere_is_refused_within_the_ttl(app, cached_client, make_token):  # noqa: F811
    token = make_token(TENANT_A, USER)
    for _ in range(2):  # the first request creates the user, and that write empties the row caches
        assert cached_client.get("/api/me", headers=bearer(token)).status_code == 200
    with app.app_context():  # a Core UPDATE, as another process would do: no flush hook fires here
        db.session.execute(update(Tenant).where(Tenant.id == TENANT_A).values(status="disabled"))
        db.session.commit()
    assert cached_client.get("/api/me", headers=bearer(token)).status_code == 200  # still cached
    time.sleep(0.45)
    assert cached_client.get("/api/me", headers=bearer(token)).status_code == 403


def test_a_tenant_disabled_through_the_orm_is_refused_at_once(app, cached_client, make_token):  # noqa: F811
    token = make_token(TENANT_A, USER)
    assert cached_client.get("/api/me", headers=bearer(token)).status_code == 200
    with app.app_context():
        db.session.get(Tenant, TENANT_A).status = "disabled"
        db.session.commit()
    assert cached_client.get("/api/me", headers=bearer(token)).status_code == 403


def test_a_token_cached_by_one_app_is_not_taken_by_an_app_of_another_audience(cached_config, cached_client, make_token):  # noqa: F811
    """Two apps of one process on one database share their caches; a token verified for the first app's audience
    is still checked against the second app's own."""
    from backend import create_app

    token = make_token(TENANT_A, USER)
    assert cached_client.get("/api/me", headers=bearer(token)).status_code == 200  # verified, and cached
    other_audience = {**cached_config, "ENTRA_CLIENT_ID": "11111111-2222-4333-8444-555555555555"}
    other = create_app(other_audience).test_client()
    refused = other.get("/api/me", headers=bearer(token))
    assert refused.status_code == 401, refused.get_json()
