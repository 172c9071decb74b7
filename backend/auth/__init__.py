"""Authentication and authorisation: Entra ID access tokens, tenants, roles, on-behalf-of Graph access.

What other parts of Switchboard use:

    from backend.auth import authenticated, require_role, current_identity

    @bp.get("/api/things")
    @authenticated                      # any valid user of an active tenant; 401/403 otherwise
    def list_things():
        me = current_identity()         # .tenant_id .user_id (users.id) .object_id .name .roles
        ...

    @bp.patch("/api/admin/tenant")
    @require_role("tenant_admin")       # the Entra app role Tenant.Admin, or granted by an operator
    def patch_tenant(): ...

Every protected view uses one of the two decorators; the route matrix test fails for a route without one. Once a
request is authenticated, ORM queries on tenant models are scoped to the caller's tenant (see backend.tenancy, and
`get_owned_or_404` there). Graph tokens for the caller: `backend.auth.obo.graph_token(graph_scopes("User.Read"))`.
Dev mode (SWITCHBOARD_AUTH_MODE=dev) changes only who signs tokens: see backend.auth.dev.
"""

from __future__ import annotations

import logging

from flask import Flask

from backend.auth.identity import Identity, authenticated, current_identity, require_role

__all__ = ["Identity", "authenticated", "current_identity", "init_app", "require_role", "warn_unusable_token_settings"]

AUTH_MODES = ("entra", "dev")


def init_app(app: Flask) -> None:
    """Check the auth mode and, in dev mode, print the warning banner."""
    from backend.auth.ttlcache import watch_row_changes

    watch_row_changes()  # row caches of the request path forget a tenant, user or settings row written here
    mode = app.config["AUTH_MODE"]
    if mode not in AUTH_MODES:
        from backend.config import ConfigurationError

        raise ConfigurationError(f"SWITCHBOARD_AUTH_MODE must be one of {', '.join(AUTH_MODES)}, not {mode!r}")
    if mode == "dev":
        from backend.auth.dev import refuse_exposed_requests, warn_banner

        warn_banner(app)
        refuse_exposed_requests(app)


def warn_unusable_token_settings(app: Flask) -> None:
    """Where tokens are validated (the web server), warn of settings that refuse tokens: commands that never read a
    token (`switchboard db upgrade`, `tenants list`, ...) build the app too and stay quiet about it."""
    if app.config["AUTH_MODE"] == "entra" and not app.config["ENTRA_CLIENT_ID"]:
        # v2 tokens (the add-in's) always name the client id; only v1 tokens may name the App ID URI instead.
        logging.getLogger(__name__).warning("no SWITCHBOARD_ENTRA_CLIENT_ID: every v2 access token will be refused")
