"""The model catalog: platform providers from SWITCHBOARD_PROVIDERS_FILE plus what each tenant adds or configures.

`platform_catalog()` reads the YAML file once per change (API keys come from the named environment variables at that
moment); `tenant_catalog(tenant_id)` overlays the tenant's TenantProvider rows (backend/catalog/tenant.py).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from flask import current_app

from backend.catalog.parsing import (
    CatalogError,
    build_provider,
    fail,
    parse_base_url,
    parse_models,
    parse_provider_head,
)
from backend.providers.base import ModelSpec, ProviderConfig

__all__ = ["Catalog", "CatalogError", "load_providers_file", "platform_catalog", "tenant_catalog"]

EXTENSION_KEY = "switchboard.catalog"


@dataclass(frozen=True)
class Catalog:
    """Providers by name, and which model refs the tenant did not allow (kept so routing can say why)."""

    providers: dict[str, ProviderConfig]
    version: str  # changes whenever anything in the catalog changes; routing tables are cached on it
    not_allowed: frozenset[str] = frozenset()
    # Tenant rows left out because they are invalid; for the platform file, key variables that are not set (no
    # secrets in the text).
    problems: tuple[str, ...] = ()
    # The tenant rows left out, by provider name, with why: "key_unreadable" or "config_invalid" (no text, no key).
    unusable: dict[str, str] = field(default_factory=dict)
    models: dict[str, ModelSpec] = field(init=False)

    def __post_init__(self) -> None:
        """Index every model by its ref."""
        models = {m.ref: m for p in self.providers.values() for m in p.models}
        object.__setattr__(self, "models", models)

    def provider_of(self, model: ModelSpec) -> ProviderConfig:
        """The provider a model belongs to."""
        return self.providers[model.provider]


def selfhosted_pricing(config: Any) -> dict[str, float]:
    """The configured GPU-hour cost and throughput that price a self-hosted model without a listed price."""
    return {
        "gpu_hour_usd": float(config.get("SELFHOSTED_GPU_HOUR_USD") or 0),
        "tokens_per_second": float(config.get("SELFHOSTED_TOKENS_PER_SECOND") or 0),
    }


def load_providers_file(path: str | Path, pricing: dict[str, float], environ: Any = None) -> Catalog:
    """Parse and check the platform providers file; each api_key_env is read from `environ` now."""
    environ = os.environ if environ is None else environ
    path = Path(path)
    source = path.name
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CatalogError(f"{path}: cannot be read ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise CatalogError(f"{path}: is not valid YAML ({exc.__class__.__name__})") from None
    if not isinstance(document, dict) or not isinstance(document.get("providers"), list):
        raise fail(source, "must be a mapping with a 'providers' list")
    providers: dict[str, ProviderConfig] = {}
    problems: list[str] = []  # what the operator should hear at start; names of variables, never their values
    for index, entry in enumerate(document["providers"]):
        where = f"{source}: providers[{index}]"
        name, kind = parse_provider_head(entry, where)
        if name in providers:
            raise fail(f"{where}.name", f"duplicate provider name {name!r}")
        key_env = entry.get("api_key_env")
        if key_env is not None and (not isinstance(key_env, str) or not key_env):
            raise fail(f"{where}.api_key_env", "must be the name of an environment variable")
        if "api_key" in entry:
            raise fail(f"{where}.api_key", "keys do not belong in the file: name a variable with api_key_env")
        if key_env and not environ.get(key_env):
            problems.append(f"{where} ({name}): api_key_env names {key_env}, which is not set: its calls will fail")
        provider_pricing = pricing if kind == "selfhosted" else {}
        models = parse_models(entry.get("models"), f"{where}.models", name, provider_pricing, {})
        providers[name] = build_provider(
            entry,
            where,
            models,
            base_url=parse_base_url(entry.get("base_url"), f"{where}.base_url"),
            api_key=environ.get(key_env) if key_env else None,
            enabled=entry.get("enabled", True) is not False,
        )
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    return Catalog(providers=providers, version=f"platform:{digest}", problems=tuple(problems))


def platform_catalog() -> Catalog:
    """The current app's platform catalog, re-read when the providers file changes; empty without a file."""
    path = current_app.config.get("PROVIDERS_FILE")
    if not path:
        return Catalog(providers={}, version="platform:none")
    mtime = Path(path).stat().st_mtime_ns
    cached = current_app.extensions.get(EXTENSION_KEY)
    if cached and cached[0] == (str(path), mtime):
        return cached[1]
    catalog = load_providers_file(path, selfhosted_pricing(current_app.config))
    current_app.extensions[EXTENSION_KEY] = ((str(path), mtime), catalog)
    return catalog


def tenant_catalog(tenant_id: str) -> Catalog:
    """The platform catalog with the tenant's own providers and settings applied."""
    from backend.auth.ttlcache import hot_cache
    from backend.catalog.tenant import load_tenant_catalog

    platform = platform_catalog()
    # Read per request otherwise: cached for HOT_CACHE_SECONDS, emptied at once when this process writes a row.
    cache, key = hot_cache(current_app, "catalog"), (platform.version, tenant_id)
    catalog = cache.get(key)
    if catalog is None:
        catalog = load_tenant_catalog(platform, tenant_id)
        cache.put(key, catalog)
    return catalog
