"""What the admin console needs beyond the settings document: the tenant's effective catalog and a connection test."""

from __future__ import annotations

import time
from typing import Any

from flask import Blueprint, Response, jsonify

from backend import asyncbridge
from backend.auth import current_identity, require_role
from backend.errors import ApiError
from backend.openapi import describe
from backend.providers.base import ChatMessage, ChatRequest, ProviderConfig, ProviderError

bp = Blueprint("admin_providers", __name__, url_prefix="/api/admin")
TEST_TIMEOUT_SECONDS = 20.0
# The smallest call that proves the URL, the key and the model id: one short prompt, one output token.
PING = ChatRequest(messages=[ChatMessage("user", "Reply with the word ok.")], max_output_tokens=1)


def provider_summary(config: ProviderConfig, not_allowed: frozenset[str]) -> dict[str, Any]:
    """A provider as the console lists it: who owns it, its models; never its key or a platform URL."""
    summary: dict[str, Any] = {
        "name": config.name,
        "type": config.type,
        "owner": "platform" if config.owner is None else "tenant",
        "enabled": config.enabled,
        "location": config.location,
        "models": [
            {
                "ref": model.ref,
                "id": model.id,
                "location": model.location,
                "tier": model.tier,
                "allowed": model.ref not in not_allowed,
                "price_per_million": {
                    "input": float(model.price_in_per_million),
                    "output": float(model.price_out_per_million),
                },
            }
            for model in config.models
        ],
    }
    if config.owner is not None:
        summary["base_url"] = config.base_url  # the tenant's own endpoint: its admins entered it
    return summary


@bp.get("/catalog")
@require_role("tenant_admin")
@describe(
    "Every provider and model the tenant can use (platform and its own, keys never shown) and every installed skill.",
    response={"type": "object"},
    responses={403: "Not an admin of this tenant"},
    tags=["admin"],
)
def catalog() -> Response:
    """The tenant's effective providers and models, with all skills (disabled ones included)."""
    from backend.catalog import platform_catalog, tenant_catalog
    from backend.skills import current_skills

    tenant_id = current_identity().tenant_id
    merged = tenant_catalog(tenant_id)
    providers = [provider_summary(config, merged.not_allowed) for config in merged.providers.values()]
    skills = [
        {"id": s.spec.id, "name": s.spec.name, "hosts": list(s.spec.hosts)} for s in current_skills().for_host(None)
    ]
    return jsonify(
        {
            "providers": providers,
            "platform_providers": sorted(platform_catalog().providers),
            "skills": sorted(skills, key=lambda s: s["id"]),
            "problems": len(merged.problems),  # how many of the tenant's rows are unusable (their text may name URLs)
            "unusable_providers": [{"name": n, "reason": r} for n, r in sorted(merged.unusable.items())],
        }
    )


@bp.post("/providers/<name>/test")
@require_role("tenant_admin")
@describe(
    "Make one tiny real call through a provider of the tenant; answers ok, or the error kind (never a key).",
    response={
        "type": "object",
        "properties": {
            "ok": {"type": "boolean"},
            "model": {"type": ["string", "null"]},
            "error": {"type": "string"},
            "status": {"type": ["integer", "null"]},
            "latency_ms": {"type": "integer"},
        },
    },
    responses={403: "Not an admin of this tenant", 404: "No such provider", 409: "Turned off by the operator"},
    tags=["admin"],
)
def test_provider(name: str) -> Response:
    """Call the provider's first allowed model with a one-token prompt."""
    from backend.catalog import platform_catalog, tenant_catalog
    from backend.providers import PROVIDERS
    from backend.providers.instances import provider_instance

    merged = tenant_catalog(current_identity().tenant_id)
    reason = merged.unusable.get(name)
    if reason is not None:
        # Fail closed, calling nothing: the tenant's row stands for this provider, and no other key (the platform's,
        # for a narrowing row) may stand in for the one it stores, as none does for its calls.
        return jsonify({"ok": False, "model": None, "error": reason, "status": None})
    config = merged.providers.get(name)
    if config is None:
        raise ApiError(404, "not_found", "No such provider for this tenant.")
    platform = platform_catalog().providers.get(name)
    if config.owner is None and platform is not None and not platform.enabled:
        # On the platform's key: a provider the operator turned off is called by nobody, a test included.
        raise ApiError(409, "provider_disabled", "The operator has turned this provider off.")
    models = [m for m in config.models if m.ref not in merged.not_allowed] or list(config.models)
    if config.type not in PROVIDERS:
        return jsonify({"ok": False, "model": models[0].ref, "error": "not_installed", "status": None})
    started = time.monotonic()
    try:
        provider = provider_instance(PROVIDERS, config)
        asyncbridge.run_sync(provider.complete(models[0], PING), timeout=TEST_TIMEOUT_SECONDS)
    except ProviderError as exc:  # kind and status only: the message may quote the provider's answer
        return jsonify({"ok": False, "model": models[0].ref, "error": exc.kind, "status": exc.status})
    except TimeoutError:
        return jsonify({"ok": False, "model": models[0].ref, "error": "timeout", "status": None})
    latency = int((time.monotonic() - started) * 1000)
    return jsonify({"ok": True, "model": models[0].ref, "latency_ms": latency})
