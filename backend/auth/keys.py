"""Which keys verify tokens and what tokens must say, per app: Entra discovery in production, a local key in dev."""

from __future__ import annotations

import requests
from flask import Flask, current_app

from backend.auth.signing_keys import EntraSigningKeys
from backend.auth.tokens import TokenPolicy

_KEYS_EXTENSION = "switchboard.auth.signing_keys"
# The audience of dev tokens when no Entra client id is configured.
DEV_CLIENT_ID = "switchboard-dev"


def is_dev_mode(app: Flask | None = None) -> bool:
    """True when tokens are signed by the local dev key instead of Entra."""
    return (app or current_app).config["AUTH_MODE"] == "dev"


def token_policy(app: Flask | None = None) -> TokenPolicy:
    """Audiences, issuer template and leeway from the configuration; the same in dev and production."""
    config = (app or current_app).config
    client_id = config["ENTRA_CLIENT_ID"] or (DEV_CLIENT_ID if is_dev_mode(app) else "")
    audiences = tuple(a for a in (client_id, config["ENTRA_APP_ID_URI"]) if a)
    template = config["ENTRA_AUTHORITY"].rstrip("/") + "/{tid}/v2.0"
    return TokenPolicy(
        audiences=audiences,
        v2_issuer_template=template,
        leeway_seconds=int(config["AUTH_LEEWAY_SECONDS"]),
        client_id=client_id,
    )


def signing_keys(app: Flask | None = None):
    """The app's key resolver (`key_for(tenant_id, kid)`), built on first use and kept for the process."""
    app = app or current_app
    resolver = app.extensions.get(_KEYS_EXTENSION)
    if resolver is None:
        if is_dev_mode(app):
            from backend.auth.dev import DevSigningKeys

            resolver = DevSigningKeys(app)
        else:
            config = app.config
            resolver = EntraSigningKeys(
                authority=config["ENTRA_AUTHORITY"],
                http_get=lambda url: fetch_json(app, url),
                cooldown=float(config["JWKS_REFETCH_COOLDOWN_SECONDS"]),
                max_age=float(config["JWKS_MAX_AGE_SECONDS"]),
                allow_http=bool(config["ENTRA_ALLOW_HTTP_AUTHORITY"]),
            )
        app.extensions[_KEYS_EXTENSION] = resolver
    return resolver


def entra_http_client(app: Flask | None = None):
    """The HTTP client for Entra (discovery, keys, MSAL): injected by tests through ENTRA_HTTP_CLIENT."""
    return (app or current_app).config.get("ENTRA_HTTP_CLIENT") or requests


def fetch_json(app: Flask, url: str) -> dict:
    """GET a JSON document from Entra with a short timeout."""
    response = entra_http_client(app).get(url, timeout=float(app.config["ENTRA_HTTP_TIMEOUT_SECONDS"]))
    response.raise_for_status()
    return response.json()
