"""A tenant's settings document compiled into what routing and accounting need: `TenantPolicy`.

Data policy rules (per sensitivity): `providers` and/or `locations` (names; "*" for any); a model passes when it
satisfies every key the rule names. Sensitivities are ordered general < confidential < highly_confidential, and a
sensitivity without a rule inherits the rule of the nearest less sensitive level that has one (so a tenant that
restricts "confidential" never lets "highly_confidential" go anywhere); "general" without a rule allows every model.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

ROUTING_MODES = ("cost", "quality", "pinned", "selfhosted_first")
SENSITIVITIES = ("general", "confidential", "highly_confidential")


@dataclass(frozen=True)
class DataRule:
    """Which providers and locations one sensitivity may use; None means "not restricted by this key"."""

    providers: frozenset[str] | None = None
    locations: frozenset[str] | None = None

    def allows(self, provider: str, location: str) -> bool:
        """Whether a model of this provider at this location may see data of this sensitivity."""
        if self.providers is not None and "*" not in self.providers and provider not in self.providers:
            return False
        return self.locations is None or "*" in self.locations or location in self.locations


@dataclass(frozen=True)
class TenantPolicy:
    """Routing mode, pins, data rules, budgets and rate limits of one tenant."""

    mode: str = "cost"
    pins: dict[str, tuple[str, ...]] = field(default_factory=dict)
    pinned_fallback: bool = False  # pinned mode: after the pins, try the other models by cost
    data_rules: dict[str, DataRule] = field(default_factory=dict)
    budgets: dict[str, float] = field(default_factory=dict)
    rate_limits: dict[str, int] = field(default_factory=dict)
    signature: str = ""

    @classmethod
    def from_settings(cls, settings: Any) -> TenantPolicy:
        """Compile a settings document (a dict, or a TenantSettings row) into a policy; bad values raise ValueError."""
        if isinstance(settings, TenantPolicy):
            return settings
        doc = settings if isinstance(settings, dict) else _row_document(settings)
        routing = doc.get("routing") or {}
        mode = routing.get("mode", "cost")
        if mode not in ROUTING_MODES:
            raise ValueError(f"routing.mode must be one of {list(ROUTING_MODES)}")
        pins = {skill: tuple(refs) for skill, refs in (routing.get("pins") or {}).items()}
        return cls(
            mode=mode,
            pins=pins,
            pinned_fallback=bool(routing.get("pinned_fallback", False)),
            data_rules=compile_data_rules(doc.get("data_policy") or {}),
            budgets={k: float(v) for k, v in (doc.get("budgets") or {}).items() if v is not None},
            rate_limits={k: int(v) for k, v in (doc.get("rate_limits") or {}).items() if v is not None},
            signature=json.dumps({"routing": routing, "data_policy": doc.get("data_policy")}, sort_keys=True),
        )

    def rule_for(self, sensitivity: str) -> DataRule:
        """The data rule for a sensitivity."""
        return self.data_rules[sensitivity]


_compiled: dict[tuple[str, int], TenantPolicy] = {}
COMPILED_CACHE_SIZE = 4096


def policy_for(tenant_id: str, settings: Any) -> TenantPolicy:
    """The compiled policy of a TenantSettings row, cached on (tenant, version): rows bump `version` on every change."""
    # updated_at as well as version: two databases (tests, or a restored backup) can share (tenant, version).
    key = (tenant_id, int(settings.version), str(getattr(settings, "updated_at", "")))
    policy = _compiled.get(key)
    if policy is None:
        if len(_compiled) >= COMPILED_CACHE_SIZE:
            _compiled.clear()
        policy = _compiled[key] = TenantPolicy.from_settings(settings)
    return policy


def compile_data_rules(policy: dict[str, Any]) -> dict[str, DataRule]:
    """One DataRule per known sensitivity, with inheritance from the less sensitive level."""
    unknown = set(policy) - set(SENSITIVITIES)
    if unknown:
        raise ValueError(f"data_policy has unknown sensitivities {sorted(unknown)}")
    rules: dict[str, DataRule] = {}
    inherited = DataRule()
    for level in SENSITIVITIES:
        entry = policy.get(level)
        if entry is not None:
            providers, locations = entry.get("providers"), entry.get("locations")
            inherited = DataRule(
                providers=frozenset(providers) if providers is not None else None,
                locations=frozenset(locations) if locations is not None else None,
            )
        rules[level] = inherited
    return rules


def _row_document(row: Any) -> dict[str, Any]:
    """The settings document of a TenantSettings row."""
    return {
        "routing": row.routing,
        "data_policy": row.data_policy,
        "budgets": row.budgets,
        "rate_limits": row.rate_limits,
    }
