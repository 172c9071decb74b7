"""The router: which models may serve a call, in which order, and why every other model was skipped.

Work that depends only on the catalog and the tenant's policy (enabled providers, allowed models, data rules per
sensitivity) is compiled once into a `RoutingTable` and cached on their versions; a call then only checks its own
fit (context, output, capabilities), reads circuit states in one batch and sorts a handful of models.

Ordering by mode:
- cost: cheapest estimated call first (prompt x input price + max output x output price), then better tier.
- quality: best tier first, then cost.
- pinned: the skill's pins, in their order; other models are skipped as "not_pinned" unless the policy sets
  `routing.pinned_fallback: true`, which appends them by cost. A skill without pins is routed by cost.
- selfhosted_first: models of `selfhosted` providers first, each group by cost.
In cost and selfhosted_first, a `preferred_tier` puts models of that tier or better ahead of weaker ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from backend.catalog import Catalog
from backend.providers.base import ModelSpec
from backend.routing.circuit import circuit_key
from backend.routing.policy import SENSITIVITIES, TenantPolicy

TABLE_CACHE_SIZE = 256
_tables: dict[tuple[str, str], RoutingTable] = {}


@dataclass(frozen=True)
class RoutingNeed:
    """What one call needs from a model."""

    skill_id: str
    sensitivity: str = "general"
    prompt_tokens: int = 0
    max_output_tokens: int = 1024
    capabilities: frozenset[str] = frozenset()
    preferred_tier: int | None = None


@dataclass
class RoutingDecision:
    """The router's answer, recorded on the SkillRun: ordered candidates and the reason for each skip."""

    mode: str
    sensitivity: str
    candidates: list[ModelSpec]
    skipped: dict[str, str]
    half_open: set[str] = field(default_factory=set)  # candidates allowed one probe after their cool-down
    chosen: str | None = None  # filled in by the dispatcher
    attempts: list[dict[str, Any]] = field(default_factory=list)  # filled in by the dispatcher

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready record (model refs and reasons only; no keys, no text)."""
        return {
            "mode": self.mode,
            "sensitivity": self.sensitivity,
            "candidates": [m.ref for m in self.candidates],
            "half_open": sorted(self.half_open),
            "skipped": dict(self.skipped),
            "chosen": self.chosen,
            "attempts": list(self.attempts),
        }


class CircuitStates(Protocol):
    """What the router needs from the circuit breaker: the state of many models in one call."""

    def states(self, refs: list[str]) -> dict[str, str]:
        """ "closed", "open" or "half_open" for each ref."""
        ...


@dataclass(frozen=True)
class TableEntry:
    """A model with what routing needs precomputed."""

    model: ModelSpec
    price_in: float
    price_out: float
    selfhosted: bool


@dataclass(frozen=True)
class RoutingTable:
    """Per sensitivity: the models that pass the static checks, and the static skip reasons of the others."""

    allowed: dict[str, tuple[TableEntry, ...]]
    skipped: dict[str, dict[str, str]]


def compile_table(catalog: Catalog, policy: TenantPolicy) -> RoutingTable:
    """Apply provider enablement, the tenant's allowed models and the data rules, once per catalog and policy."""
    allowed: dict[str, tuple[TableEntry, ...]] = {}
    skipped: dict[str, dict[str, str]] = {}
    for sensitivity in SENSITIVITIES:
        rule = policy.rule_for(sensitivity)
        keep: list[TableEntry] = []
        reasons: dict[str, str] = {}
        for ref, model in catalog.models.items():
            provider = catalog.providers[model.provider]
            if not provider.enabled:
                reasons[ref] = "provider_disabled"
            elif ref in catalog.not_allowed:
                reasons[ref] = "model_not_allowed"
            elif not rule.allows(provider.name, model.location):
                reasons[ref] = "data_policy"
            else:
                prices = (float(model.price_in_per_million), float(model.price_out_per_million))
                keep.append(TableEntry(model, *prices, selfhosted=provider.type == "selfhosted"))
        allowed[sensitivity], skipped[sensitivity] = tuple(keep), reasons
    return RoutingTable(allowed=allowed, skipped=skipped)


def routing_table(catalog: Catalog, policy: TenantPolicy) -> RoutingTable:
    """The compiled table for this catalog and policy, from a small process-wide cache."""
    key = (catalog.version, policy.signature)
    table = _tables.get(key)
    if table is None:
        if len(_tables) >= TABLE_CACHE_SIZE:
            _tables.clear()
        table = _tables[key] = compile_table(catalog, policy)
    return table


def unfit_reason(entry: TableEntry, need: RoutingNeed) -> str | None:
    """Why this model cannot serve this call, or None."""
    model = entry.model
    if need.max_output_tokens > model.max_output_tokens:
        return "max_output_tokens"
    if need.prompt_tokens + need.max_output_tokens > model.context_window:
        return "context_window"
    if not need.capabilities <= model.capabilities:
        return "missing_capability"
    return None


def order(entries: list[TableEntry], policy: TenantPolicy, need: RoutingNeed, skipped: dict[str, str]) -> list:
    """Sort the fitting models by the tenant's mode; pinned mode may skip unpinned ones."""

    def cost(e: TableEntry) -> float:
        """The most this call could cost on the model, in millionths of a dollar (only the order matters)."""
        return e.price_in * need.prompt_tokens + e.price_out * need.max_output_tokens

    def below_preferred(e: TableEntry) -> bool:
        """Whether the model is weaker than the tier the skill prefers."""
        return need.preferred_tier is not None and e.model.tier > need.preferred_tier

    mode, pins = policy.mode, policy.pins.get(need.skill_id)
    if mode == "quality":
        return sorted(entries, key=lambda e: (e.model.tier, cost(e), e.model.ref))
    if mode == "selfhosted_first":
        return sorted(entries, key=lambda e: (not e.selfhosted, below_preferred(e), cost(e), e.model.tier))
    by_cost = sorted(entries, key=lambda e: (below_preferred(e), cost(e), e.model.tier, e.model.ref))
    if mode != "pinned" or not pins:
        return by_cost
    by_ref = {e.model.ref: e for e in entries}
    pinned = [by_ref[ref] for ref in dict.fromkeys(pins) if ref in by_ref]  # a model pinned twice is tried once
    rest = [e for e in by_cost if e.model.ref not in pins]
    if policy.pinned_fallback:
        return pinned + rest
    skipped.update((e.model.ref, "not_pinned") for e in rest)
    return pinned


def route_candidates(
    catalog: Catalog, tenant_settings: Any, need: RoutingNeed, circuits: CircuitStates | None = None
) -> RoutingDecision:
    """The models that may serve `need`, best first, and the reason each other model was skipped."""
    if need.sensitivity not in SENSITIVITIES:
        raise ValueError(f"unknown sensitivity {need.sensitivity!r}")
    policy = TenantPolicy.from_settings(tenant_settings)
    table = routing_table(catalog, policy)
    skipped = dict(table.skipped[need.sensitivity])
    fitting: list[TableEntry] = []
    for entry in table.allowed[need.sensitivity]:
        reason = unfit_reason(entry, need)
        if reason:
            skipped[entry.model.ref] = reason
        else:
            fitting.append(entry)
    half_open: set[str] = set()
    if circuits is not None and fitting:
        keys = {entry.model.ref: circuit_key(catalog, entry.model) for entry in fitting}
        states = circuits.states(list(keys.values()))
        for entry in list(fitting):
            state = states.get(keys[entry.model.ref], "closed")
            if state == "open":
                skipped[entry.model.ref] = "circuit_open"
                fitting.remove(entry)
            elif state == "half_open":
                half_open.add(entry.model.ref)
    ordered = order(fitting, policy, need, skipped)
    return RoutingDecision(
        mode=policy.mode,
        sensitivity=need.sensitivity,
        candidates=[e.model for e in ordered],
        skipped=skipped,
        half_open=half_open,
    )
