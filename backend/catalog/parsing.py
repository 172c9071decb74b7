"""Turn one provider entry (from the providers file or a tenant's settings) into a checked ProviderConfig.

Every error names where it came from and which field is wrong, e.g.
"providers.yaml: providers[0].models[1].context_window: must be a positive integer".
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

from backend.providers import PROVIDER_TYPES
from backend.providers.base import CAPABILITIES, ModelSpec, ProviderConfig, Timeouts

SECONDS_PER_HOUR = 3600
MILLION = Decimal(1_000_000)


class CatalogError(ValueError):
    """A provider or model entry is invalid; the message names the source and the field, never a secret."""


def fail(where: str, message: str) -> CatalogError:
    """An error for one field."""
    return CatalogError(f"{where}: {message}")


def positive_int(value: Any, where: str) -> int:
    """A strictly positive integer (bools are not integers here)."""
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise fail(where, "must be a positive integer")
    return value


def price(value: Any, where: str) -> Decimal:
    """A non-negative price in USD per million tokens."""
    if isinstance(value, bool):
        raise fail(where, "must be a non-negative number")
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise fail(where, "must be a non-negative number") from None
    if not amount.is_finite() or amount < 0:
        raise fail(where, "must be a non-negative number")
    return amount


def selfhosted_price_per_million(gpu_hour_usd: float, tokens_per_second: float) -> Decimal:
    """USD per million tokens of a GPU costing gpu_hour_usd that produces tokens_per_second; 0 when unknown."""
    if gpu_hour_usd <= 0 or tokens_per_second <= 0:
        return Decimal(0)
    per_token = Decimal(str(gpu_hour_usd)) / (Decimal(str(tokens_per_second)) * SECONDS_PER_HOUR)
    return (per_token * MILLION).quantize(Decimal("0.000001"))


def parse_model(entry: Any, where: str, provider: str, pricing: dict[str, float], base: ModelSpec | None) -> ModelSpec:
    """One model entry; fields missing from a tenant's override of a platform model keep the platform's values."""
    if not isinstance(entry, dict):
        raise fail(where, "must be a mapping")
    model_id = entry.get("id")
    if not isinstance(model_id, str) or not model_id.strip():
        raise fail(f"{where}.id", "must be a non-empty string")
    if base is None:
        window = positive_int(entry.get("context_window"), f"{where}.context_window")
        # Without a stated output limit, assume 4096 tokens (or the whole window, if smaller).
        base = ModelSpec(provider=provider, id=model_id, context_window=window, max_output_tokens=min(4096, window))
    changes: dict[str, Any] = {}
    if "context_window" in entry:
        changes["context_window"] = positive_int(entry["context_window"], f"{where}.context_window")
    if "max_output_tokens" in entry:
        changes["max_output_tokens"] = positive_int(entry["max_output_tokens"], f"{where}.max_output_tokens")
    if "capabilities" in entry:
        caps = entry["capabilities"]
        if not isinstance(caps, list) or any(c not in CAPABILITIES for c in caps):
            raise fail(f"{where}.capabilities", f"must be a list drawn from {list(CAPABILITIES)}")
        changes["capabilities"] = frozenset(caps)
    if "price_per_million" in entry:
        prices = entry["price_per_million"]
        if not isinstance(prices, dict):
            raise fail(f"{where}.price_per_million", "must be a mapping with input and output")
        changes["price_in_per_million"] = price(prices.get("input", 0), f"{where}.price_per_million.input")
        changes["price_out_per_million"] = price(prices.get("output", 0), f"{where}.price_per_million.output")
    elif pricing and base.price_in_per_million == 0 and base.price_out_per_million == 0:
        derived = selfhosted_price_per_million(
            float(entry.get("gpu_hour_usd", pricing["gpu_hour_usd"])),
            float(entry.get("tokens_per_second", pricing["tokens_per_second"])),
        )
        changes["price_in_per_million"] = changes["price_out_per_million"] = derived
    if "location" in entry:
        if not isinstance(entry["location"], str) or not entry["location"]:
            raise fail(f"{where}.location", "must be a non-empty string")
        changes["location"] = entry["location"]
    if "tier" in entry:
        if entry["tier"] not in (1, 2, 3) or isinstance(entry["tier"], bool):
            raise fail(f"{where}.tier", "must be 1, 2 or 3")
        changes["tier"] = entry["tier"]
    return replace(base, provider=provider, **changes)


def parse_base_url(value: Any, where: str) -> str | None:
    """An http(s) URL with a host, or None."""
    if value is None:
        return None
    if not isinstance(value, str) or urlsplit(value).scheme not in ("http", "https") or not urlsplit(value).hostname:
        raise fail(where, "must be an http or https URL")
    return value.rstrip("/")


def parse_provider_head(entry: Any, where: str) -> tuple[str, str]:
    """The name and type of a provider entry, checked."""
    if not isinstance(entry, dict):
        raise fail(where, "must be a mapping")
    name, kind = entry.get("name"), entry.get("type")
    if not isinstance(name, str) or not name.strip() or "/" in name:
        raise fail(f"{where}.name", "must be a non-empty string without '/'")
    if kind not in PROVIDER_TYPES:
        raise fail(f"{where}.type", f"must be one of {list(PROVIDER_TYPES)}")
    return name, kind


def parse_timeouts(value: Any, where: str) -> Timeouts:
    """Optional {connect, first_token, total} seconds."""
    if value is None:
        return Timeouts()
    if not isinstance(value, dict) or any(not isinstance(v, int | float) or v <= 0 for v in value.values()):
        raise fail(where, "must be a mapping of positive seconds")
    unknown = set(value) - {"connect", "first_token", "total"}
    if unknown:
        raise fail(where, f"unknown keys {sorted(unknown)}")
    return Timeouts(**{k: float(v) for k, v in value.items()})


def parse_models(
    entries: Any, where: str, provider: str, pricing: dict[str, float], bases: dict[str, ModelSpec]
) -> tuple[ModelSpec, ...]:
    """The models list of a provider entry; ids must be unique."""
    if not isinstance(entries, list):
        raise fail(where, "must be a list")
    models = [
        parse_model(
            item, f"{where}[{i}]", provider, pricing, bases.get(item.get("id") if isinstance(item, dict) else "")
        )
        for i, item in enumerate(entries)
    ]
    ids = [m.id for m in models]
    if len(ids) != len(set(ids)):
        raise fail(where, "model ids must be unique")
    return tuple(models)


def build_provider(entry: dict[str, Any], where: str, models: tuple[ModelSpec, ...], **fields: Any) -> ProviderConfig:
    """A ProviderConfig from a checked entry; `fields` carries the key, owner and URL decided by the caller."""
    extra = entry.get("extra") or {}
    if not isinstance(extra, dict):
        raise fail(f"{where}.extra", "must be a mapping")
    return ProviderConfig(
        name=entry["name"],
        type=entry["type"],
        models=models,
        timeouts=parse_timeouts(entry.get("timeouts"), f"{where}.timeouts"),
        extra=dict(extra),
        **fields,
    )
