"""Entra signing keys: OpenID discovery per tenant, a cached key set, and a bounded refetch on an unknown kid."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from urllib.parse import urlparse

import jwt

log = logging.getLogger(__name__)

HttpGet = Callable[[str], dict]


class UnknownSigningKey(Exception):
    """No key with this kid is published (after at most one refetch per cooldown window)."""


class SigningKeysUnavailable(Exception):
    """The discovery document or key set could not be fetched and nothing usable is cached."""


class KeySet:
    """The keys behind one jwks_uri: refreshed when old, refetched on an unknown kid at most once per cooldown."""

    def __init__(self, jwks_uri: str, http_get: HttpGet, cooldown: float, max_age: float, clock=time.monotonic):
        self.jwks_uri = jwks_uri
        self._http_get = http_get
        self._cooldown = cooldown
        self._max_age = max_age
        self._clock = clock
        self._keys: dict[str, object] = {}
        self._fetched_at: float | None = None
        self._attempted_at: float | None = None
        # One fetch at a time: a burst of requests with unknown kids waits for the same fetch.
        self._lock = threading.Lock()

    def key_for(self, kid: str) -> object:
        """The public key with this kid; refetches only when stale or when the cooldown has passed."""
        with self._lock:
            now = self._clock()
            stale = self._fetched_at is None or now - self._fetched_at >= self._max_age
            if stale and self._may_fetch(now):
                self._refresh(now)
            if kid in self._keys:
                return self._keys[kid]
            if self._may_fetch(now):
                self._refresh(now)
                if kid in self._keys:
                    return self._keys[kid]
            if self._fetched_at is None:
                raise SigningKeysUnavailable(self.jwks_uri)
            raise UnknownSigningKey(kid)

    def _may_fetch(self, now: float) -> bool:
        return self._attempted_at is None or now - self._attempted_at >= self._cooldown

    def _refresh(self, now: float) -> None:
        self._attempted_at = now
        try:
            document = self._http_get(self.jwks_uri)
            keys = {}
            for entry in document.get("keys", []):
                # Only RSA signing keys with a kid; anything else (encryption keys, EC) cannot verify RS256.
                if entry.get("kty") == "RSA" and entry.get("use", "sig") == "sig" and entry.get("kid"):
                    keys[entry["kid"]] = jwt.PyJWK.from_dict(entry, algorithm="RS256").key
        except Exception:  # noqa: BLE001 - keep the last good keys; the log has the cause
            log.warning("signing key set fetch failed", extra={"jwks_uri": self.jwks_uri}, exc_info=True)
            return
        self._keys = keys
        self._fetched_at = now
        log.info("signing key set fetched", extra={"jwks_uri": self.jwks_uri, "keys": len(keys)})


class EntraSigningKeys:
    """Resolves (tenant, kid) to a public key through `{authority}/{tid}/v2.0/.well-known/openid-configuration`."""

    def __init__(self, authority: str, http_get: HttpGet, cooldown: float, max_age: float, allow_http: bool):
        self._authority = authority.rstrip("/")
        self._http_get = http_get
        self._cooldown = cooldown
        self._max_age = max_age
        self._allow_http = allow_http
        self._jwks_uris: dict[str, tuple[str, float]] = {}
        self._key_sets: dict[str, KeySet] = {}
        self._discovery_failed_at: dict[str, float] = {}
        self._lock = threading.Lock()

    def key_for(self, tenant_id: str, kid: str) -> object:
        """The key that must have signed this tenant's token."""
        return self._key_set(self._jwks_uri(tenant_id)).key_for(kid)

    def _jwks_uri(self, tenant_id: str) -> str:
        now = time.monotonic()
        cached = self._jwks_uris.get(tenant_id)
        if cached and now - cached[1] < self._max_age:
            return cached[0]
        url = f"{self._authority}/{tenant_id}/v2.0/.well-known/openid-configuration"
        self._require_safe_url(url)
        failed_at = self._discovery_failed_at.get(tenant_id)
        if failed_at is not None and now - failed_at < self._cooldown:
            # An unreachable discovery endpoint is retried once per cooldown, not once per request.
            if cached:
                return cached[0]
            raise SigningKeysUnavailable(url)
        try:
            jwks_uri = self._http_get(url)["jwks_uri"]
        except Exception as exc:  # noqa: BLE001 - fall back to the last known URI if there is one
            log.warning("discovery fetch failed", extra={"tenant_id": tenant_id}, exc_info=True)
            self._discovery_failed_at[tenant_id] = now
            if cached:
                return cached[0]
            raise SigningKeysUnavailable(url) from exc
        self._require_safe_url(jwks_uri)
        self._jwks_uris[tenant_id] = (jwks_uri, now)
        return jwks_uri

    def _key_set(self, jwks_uri: str) -> KeySet:
        with self._lock:
            if jwks_uri not in self._key_sets:
                self._key_sets[jwks_uri] = KeySet(jwks_uri, self._http_get, self._cooldown, self._max_age)
            return self._key_sets[jwks_uri]

    def _require_safe_url(self, url: str) -> None:
        """https, or plain http to a loopback host when ENTRA_ALLOW_HTTP_AUTHORITY allows it (tests only)."""
        from backend.auth.dev import is_loopback  # here: backend.auth.dev imports this module

        parts = urlparse(url)
        loopback_http = parts.scheme == "http" and self._allow_http and is_loopback(parts.hostname or "")
        if parts.scheme != "https" and not loopback_http:
            raise SigningKeysUnavailable("jwks_uri must be https")
