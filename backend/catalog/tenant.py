"""A tenant's providers over the platform catalog: enable/disable, allowed models, own keys, own endpoints.

A row whose name is a platform provider's (its type NULL or the same) narrows that provider for the tenant:
`enabled`, `allowed_models` (ids or refs; when set, only these), its own `api_key`, its own `base_url`, and `models`
entries whose fields override the platform's (prices only with its own key or URL: the platform's key is metered at
the platform's price; at the platform's URL, limits and capabilities only narrower: catalog/platform_limits.py).
Any other row adds a provider of its own. A narrowing row that no longer builds (a host no longer allowed, say)
leaves that provider's models not allowed rather than unnarrowed.
Platform providers without a row stay enabled with all their models.
Safety rule: a platform key is never sent to a URL the tenant set. A tenant base_url must have a host listed in
ALLOWED_MODEL_HOSTS, and a provider at a tenant URL only ever carries the tenant's own key (or none).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import select

from backend.catalog import Catalog, selfhosted_pricing
from backend.catalog.parsing import (
    CatalogError,
    build_provider,
    fail,
    parse_base_url,
    parse_models,
    parse_provider_head,
)
from backend.catalog.platform_limits import Widening, widenings, within_platform_limits
from backend.providers.base import ProviderConfig

log = logging.getLogger(__name__)
CACHE_KEY = "switchboard.catalog.tenants"
CACHE_SIZE = 1024
UNREADABLE_KEY = object()  # a stored key the configured secret keys cannot decrypt
# Why a tenant row is left out (Catalog.unusable): its stored key cannot be decrypted, or it no longer builds.
KEY_UNREADABLE = "key_unreadable"
CONFIG_INVALID = "config_invalid"


class UnreadableKeyError(CatalogError):
    """A tenant row whose stored key the configured secret keys cannot decrypt: it must be set again."""


def tenant_catalog_settings() -> tuple[list[str], dict[str, float]]:
    """The current app's allowed model hosts and self-hosted pricing, as tenant providers are built with them."""
    return current_app.config.get("ALLOWED_MODEL_HOSTS") or [], selfhosted_pricing(current_app.config)


def check_host(base_url: str, allowed_hosts: Iterable[str], where: str) -> None:
    """Reject a tenant URL whose host the operator has not allowed, or that carries a user name, a password, a query
    string or a fragment (a credential there, such as a gateway's `?api-key=`, would be shown back in the settings,
    the catalog and the audit log: keys go in `api_key`; no provider's API base needs a query)."""
    parts = urlsplit(base_url)
    if "@" in parts.netloc:
        raise fail(where, "must not contain a user name or password: set the key as api_key")
    if parts.query or parts.fragment or base_url.rstrip().endswith(("?", "#")):
        raise fail(where, "must not contain a query string or a fragment: set a key as api_key")
    host = (parts.hostname or "").lower()
    # An IPv6 host may be listed with its URL brackets ("[fd00::1]"); urlsplit gives it without them.
    if host not in {h.strip().lower().removeprefix("[").removesuffix("]") for h in allowed_hosts}:
        # The host is not quoted: the 422 and the catalog's problems (logged) would echo whatever was pasted there.
        raise fail(where, "must have a host listed in SWITCHBOARD_ALLOWED_MODEL_HOSTS")


def refuse_repricing(models: list[Any], where: str) -> None:
    """A model the platform's key pays for is metered at the platform's price: a tenant may reprice a model only when
    it calls it with its own key or endpoint (its budgets and usage would otherwise under-count what it spends)."""
    for index, model in enumerate(models):
        if isinstance(model, dict) and "price_per_million" in model:
            raise fail(
                f"{where}[{index}].price_per_million", "only a provider with the tenant's own key may set prices"
            )


def refuse_relocation(models: list[Any], bases: dict[str, Any], where: str) -> None:
    """A platform model called at the platform's own URL runs where the platform says: a tenant may not relabel its
    `location` (answers would name the wrong place, and a location rule of the data policy would trust the label)."""
    for index, model in enumerate(models):
        base = bases.get(model.get("id")) if isinstance(model, dict) else None
        if base is not None and "location" in model and model["location"] != base.location:
            raise fail(f"{where}[{index}].location", "only a provider with the tenant's own base_url may set it")


class TenantProviderBuild(NamedTuple):
    """One tenant entry as routing uses it, the refs of platform models it does not allow, and where its overrides
    claimed more than the platform's models offer (the config has the platform's limits there)."""

    config: ProviderConfig
    not_allowed: set[str]
    widened: tuple[Widening, ...]


def tenant_provider(
    entry: dict[str, Any],
    platform: Catalog,
    tenant_id: str,
    allowed_hosts: Iterable[str],
    pricing: dict[str, float],
    where: str,
) -> TenantProviderBuild:
    """One tenant entry (api_key in clear) as a ProviderConfig, with what it does not allow and what it widened."""
    base = platform.providers.get(entry.get("name")) if isinstance(entry, dict) else None
    if base is not None and entry.get("type") is None:
        entry = {**entry, "type": base.type}  # a narrowing row: the platform provider, as this tenant may use it
    name, kind = parse_provider_head(entry, where)
    if base is not None and base.type != kind:
        raise fail(f"{where}.type", f"provider {name!r} is a platform provider of type {base.type!r}")
    base_url = parse_base_url(entry.get("base_url"), f"{where}.base_url")
    tenant_url = base_url is not None and (base is None or base_url != base.base_url)
    if tenant_url:
        check_host(base_url, allowed_hosts, f"{where}.base_url")
    own_key = entry.get("api_key") or None
    if own_key is UNREADABLE_KEY:  # left out (fail closed) until an admin sets the key again; the others still work
        raise UnreadableKeyError(f"{where}.api_key: the stored key cannot be decrypted with the configured secret keys")
    if own_key is not None and not isinstance(own_key, str):
        raise fail(f"{where}.api_key", "must be a string")
    # The platform key goes only to the platform's own URL; a tenant URL gets the tenant's key or nothing.
    platform_paid = base is not None and not tenant_url and not own_key
    api_key = base.api_key if platform_paid else own_key
    if platform_paid:
        refuse_repricing(entry.get("models") or [], f"{where}.models")
    bases = {m.id: m for m in base.models} if base else {}
    # At the platform's URL the platform's model is called: what the platform says of it holds (place, limits).
    held = bases if base is not None and not tenant_url else {}
    refuse_relocation(entry.get("models") or [], held, f"{where}.models")
    type_pricing = pricing if kind == "selfhosted" else {}
    listed = parse_models(entry.get("models") or [], f"{where}.models", name, type_pricing, bases)
    widened = tuple(w for i, m in enumerate(listed) if m.id in held for w in widenings(i, m, held[m.id]))
    listed = tuple(within_platform_limits(m, held[m.id]) if m.id in held else m for m in listed)
    listed_ids = {m.id for m in listed}
    models = listed + tuple(m for m in (base.models if base else ()) if m.id not in listed_ids)
    if not models:
        raise fail(f"{where}.models", "a new provider needs at least one model")
    allowed = entry.get("allowed_models")
    not_allowed: set[str] = set()
    if allowed is not None:  # ids or full refs of the models this tenant may use
        not_allowed = {m.ref for m in models if m.id not in allowed and m.ref not in allowed}
    extra = dict(base.extra) if base else {}
    extra.update(entry.get("extra") or {})
    if entry.get("api_version"):
        extra["api_version"] = entry["api_version"]
    config = build_provider(
        {**entry, "extra": extra},
        where,
        models,
        base_url=base_url or (base.base_url if base else None),
        api_key=api_key,
        owner=None if platform_paid else tenant_id,
        enabled=entry.get("enabled", True) is not False,
    )
    return TenantProviderBuild(config, not_allowed, widened)


def merge_tenant_providers(
    platform: Catalog, tenant_id: str, entries: list[dict[str, Any]], allowed_hosts: Iterable[str], pricing: dict
) -> Catalog:
    """The tenant's catalog; an invalid entry is left out and reported in `problems` rather than failing routing."""
    builds: list[TenantProviderBuild | CatalogError] = []
    for index, entry in enumerate(entries):
        where = f"tenant {tenant_id} providers[{index}]"
        try:
            builds.append(tenant_provider(entry, platform, tenant_id, allowed_hosts, pricing, where))
        except CatalogError as exc:
            builds.append(exc)
    return catalog_of_builds(platform, tenant_id, entries, builds)


def catalog_of_builds(
    platform: Catalog, tenant_id: str, entries: list[dict[str, Any]], builds: list[TenantProviderBuild | CatalogError]
) -> Catalog:
    """The tenant's catalog from its entries as `tenant_provider` built them (one build or error per entry, in order):
    an entry that did not build is left out, reported in `problems` and named in `unusable` with why."""
    providers = dict(platform.providers)
    not_allowed: set[str] = set()
    problems: list[str] = []
    unusable: dict[str, str] = {}
    for entry, build in zip(entries, builds, strict=True):
        if isinstance(build, CatalogError):
            log.warning("tenant provider left out of the catalog: %s", build)
            problems.append(str(build))
            name = entry.get("name") if isinstance(entry, dict) else None
            if not isinstance(name, str):
                continue
            unusable[name] = KEY_UNREADABLE if isinstance(build, UnreadableKeyError) else CONFIG_INVALID
            narrowed = platform.providers.get(name)
            if narrowed is not None:  # fail closed: a broken narrowing must not leave the provider wider than meant
                not_allowed |= {model.ref for model in narrowed.models}
            continue
        providers[build.config.name] = build.config
        not_allowed |= build.not_allowed
    # Keys are left out of the signature, but not which rows are unusable: a key that can no longer be decrypted (a
    # row re-encrypted under a secret key this process lacks) changes what routing may use, and routing tables are
    # cached on the version; an unchanged one would keep routing to a platform provider on the platform's key.
    public = [{k: v for k, v in e.items() if k != "api_key"} for e in entries]
    signature = hashlib.sha256(repr((public, sorted(unusable.items()))).encode()).hexdigest()[:16]
    return Catalog(
        providers=providers,
        version=f"{platform.version}+{tenant_id}:{signature}",
        not_allowed=frozenset(not_allowed),
        problems=tuple(problems),
        unusable=unusable,
    )


def row_entry(row: Any, decrypt: Callable[[str], str]) -> dict[str, Any]:
    """A TenantProvider row as a providers-list entry, its key decrypted (UNREADABLE_KEY when it cannot be)."""
    from backend.crypto import SecretDecryptionError

    try:
        api_key = decrypt(row.api_key_encrypted) if row.api_key_encrypted else None
    except SecretDecryptionError:  # the secret key changed without its predecessor in SECRET_KEY_FALLBACKS
        api_key = UNREADABLE_KEY
    return {
        "name": row.name,
        "type": row.type,
        "base_url": row.base_url,
        "enabled": row.enabled,
        "models": row.models or [],
        "api_key": api_key,
        **(getattr(row, "settings", None) or {}),  # allowed_models, api_version
    }


def load_tenant_catalog(platform: Catalog, tenant_id: str) -> Catalog:
    """Read the tenant's rows and merge them, caching the result on the rows' ids and update times."""
    from backend.crypto import secret_box
    from backend.extensions import db
    from backend.models.tenancy import TenantProvider

    rows = db.session.scalars(
        select(TenantProvider).where(TenantProvider.tenant_id == tenant_id).order_by(TenantProvider.name)
    ).all()
    cache: dict = current_app.extensions.setdefault(CACHE_KEY, {})
    key = (platform.version, tenant_id, tuple((r.id, r.updated_at) for r in rows))
    if key in cache:
        return cache[key]
    box = secret_box()
    entries = [row_entry(r, box.decrypt) for r in rows]
    catalog = merge_tenant_providers(platform, tenant_id, entries, *tenant_catalog_settings())
    if len(cache) >= CACHE_SIZE:
        cache.clear()  # bounded; rebuilding costs a few decryptions
    cache[key] = catalog
    return catalog
