"""The router: one test per policy mode, per sensitivity rule, and per capability/context constraint."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from backend.catalog import Catalog
from backend.providers.base import ModelSpec, ProviderConfig
from backend.routing.policy import TenantPolicy
from backend.routing.router import RoutingNeed, route_candidates
from backend.routing.tokens import NON_OPENAI_MARGIN, count_prompt_tokens, count_text_tokens

ALL_CAPS = frozenset({"streaming", "json_schema", "tools"})


def model(provider, model_id, price_in, price_out, tier, location, window=128_000, max_out=16_384, caps=ALL_CAPS):
    """A ModelSpec with the fields routing looks at."""
    return ModelSpec(
        provider=provider,
        id=model_id,
        context_window=window,
        max_output_tokens=max_out,
        capabilities=frozenset(caps),
        price_in_per_million=Decimal(str(price_in)),
        price_out_per_million=Decimal(str(price_out)),
        location=location,
        tier=tier,
    )


def make_catalog(disabled=(), not_allowed=frozenset(), version="v1") -> Catalog:
    """OpenAI (mini: cheap tier 2, big: dear tier 1), Anthropic in the EU (tier 1), and a small local model."""
    providers = {
        "openai-main": ProviderConfig(
            "openai-main",
            "openai",
            (model("openai-main", "mini", 0.4, 1.6, 2, "us-east"), model("openai-main", "big", 2.0, 8.0, 1, "us-east")),
        ),
        "claude": ProviderConfig("claude", "anthropic", (model("claude", "sonnet", 3.0, 15.0, 1, "eu-west"),)),
        "local": ProviderConfig(
            "local", "selfhosted", (model("local", "gemma", 0.1, 0.1, 3, "on-prem", 8192, 2048, {"streaming"}),)
        ),
    }
    for name in disabled:
        p = providers[name]
        providers[name] = ProviderConfig(p.name, p.type, p.models, enabled=False)
    return Catalog(
        providers=providers,
        version=version + ",".join(disabled) + ",".join(sorted(not_allowed)),
        not_allowed=frozenset(not_allowed),
    )


def refs(decision) -> list[str]:
    """The chosen order as model refs."""
    return [m.ref for m in decision.candidates]


NEED = RoutingNeed(skill_id="summarize", prompt_tokens=1000, max_output_tokens=500)


def test_cost_mode_puts_the_cheapest_capable_model_first():
    decision = route_candidates(make_catalog(), {"routing": {"mode": "cost"}}, NEED)
    assert refs(decision) == ["local/gemma", "openai-main/mini", "openai-main/big", "claude/sonnet"]


def test_quality_mode_puts_the_best_tier_first_then_cost():
    decision = route_candidates(make_catalog(), {"routing": {"mode": "quality"}}, NEED)
    assert refs(decision) == ["openai-main/big", "claude/sonnet", "openai-main/mini", "local/gemma"]


def test_selfhosted_first_mode():
    settings = {"routing": {"mode": "selfhosted_first"}}
    need = RoutingNeed(skill_id="ask", prompt_tokens=100, max_output_tokens=100)
    assert refs(route_candidates(make_catalog(), settings, need))[0] == "local/gemma"
    decision = route_candidates(make_catalog(disabled=("local",)), settings, need)
    assert refs(decision) == ["openai-main/mini", "openai-main/big", "claude/sonnet"]
    assert decision.skipped == {"local/gemma": "provider_disabled"}


def test_pinned_mode_uses_only_the_pins_in_order_unless_fallback_is_on():
    routing = {"mode": "pinned", "pins": {"summarize": ["claude/sonnet", "openai-main/big"]}}
    decision = route_candidates(make_catalog(), {"routing": routing}, NEED)
    assert refs(decision) == ["claude/sonnet", "openai-main/big"]
    assert decision.skipped == {"openai-main/mini": "not_pinned", "local/gemma": "not_pinned"}
    with_fallback = route_candidates(make_catalog(), {"routing": {**routing, "pinned_fallback": True}}, NEED)
    assert refs(with_fallback) == ["claude/sonnet", "openai-main/big", "local/gemma", "openai-main/mini"]
    unpinned_skill = route_candidates(make_catalog(), {"routing": routing}, RoutingNeed(skill_id="rewrite"))
    assert refs(unpinned_skill)[0] == "local/gemma"  # no pins for this skill: by cost


def test_a_model_pinned_twice_is_a_candidate_once():
    """A failing model is tried (and its circuit fed) once per call, however often a stored pin list names it."""
    routing = {"mode": "pinned", "pins": {"summarize": ["claude/sonnet", "openai-main/big", "claude/sonnet"]}}
    for fallback in (False, True):
        decision = route_candidates(make_catalog(), {"routing": {**routing, "pinned_fallback": fallback}}, NEED)
        assert refs(decision)[:2] == ["claude/sonnet", "openai-main/big"]
        assert len(refs(decision)) == len(set(refs(decision)))


def test_preferred_tier_puts_good_enough_models_ahead_of_cheaper_weaker_ones():
    need = RoutingNeed(skill_id="draft", prompt_tokens=100, max_output_tokens=100, preferred_tier=2)
    assert refs(route_candidates(make_catalog(), {}, need)) == [
        "openai-main/mini",
        "openai-main/big",
        "claude/sonnet",
        "local/gemma",
    ]


@pytest.mark.parametrize(
    ("data_policy", "sensitivity", "allowed"),
    [
        (
            {"general": {"providers": ["*"]}},
            "general",
            {"openai-main/mini", "openai-main/big", "claude/sonnet", "local/gemma"},
        ),
        ({"confidential": {"providers": ["local", "claude"]}}, "confidential", {"claude/sonnet", "local/gemma"}),
        ({"highly_confidential": {"locations": ["on-prem"]}}, "highly_confidential", {"local/gemma"}),
        (
            {"confidential": {"providers": ["*"], "locations": ["eu-west", "on-prem"]}},
            "confidential",
            {"claude/sonnet", "local/gemma"},
        ),
        # highly_confidential has no rule of its own: it inherits the stricter "confidential" rule, never "anything".
        ({"confidential": {"providers": ["local"]}}, "highly_confidential", {"local/gemma"}),
        ({"confidential": {"providers": []}}, "confidential", set()),
        # "*" means any, for locations as for providers
        ({"confidential": {"providers": ["local", "claude"], "locations": ["*"]}}, "confidential",
         {"claude/sonnet", "local/gemma"}),
    ],
)  # fmt: skip
def test_data_policy_per_sensitivity(data_policy, sensitivity, allowed):
    need = RoutingNeed(skill_id="ask", sensitivity=sensitivity, prompt_tokens=10, max_output_tokens=10)
    decision = route_candidates(make_catalog(), {"data_policy": data_policy}, need)
    assert set(refs(decision)) == allowed
    assert {ref for ref, why in decision.skipped.items() if why == "data_policy"} == set(
        make_catalog().models
    ) - allowed


def test_models_too_small_for_the_prompt_or_output_are_skipped():
    need = RoutingNeed(skill_id="summarize", prompt_tokens=7000, max_output_tokens=1500)
    decision = route_candidates(make_catalog(), {}, need)
    assert decision.skipped["local/gemma"] == "context_window"
    too_long = route_candidates(make_catalog(), {}, RoutingNeed(skill_id="draft", max_output_tokens=4000))
    assert too_long.skipped["local/gemma"] == "max_output_tokens"
    assert "local/gemma" not in refs(too_long)


def test_models_without_a_required_capability_are_skipped():
    need = RoutingNeed(skill_id="analyze_range", capabilities=frozenset({"json_schema"}))
    decision = route_candidates(make_catalog(), {}, need)
    assert "local/gemma" not in refs(decision) and decision.skipped["local/gemma"] == "missing_capability"


def test_models_the_tenant_did_not_allow_are_skipped():
    decision = route_candidates(make_catalog(not_allowed={"openai-main/big"}), {}, NEED)
    assert decision.skipped == {"openai-main/big": "model_not_allowed"}


class FixedCircuits:
    """Circuit states given by the test."""

    def __init__(self, states):
        self.calls = 0
        self._states = states

    def states(self, refs):
        """The given states, counting calls."""
        self.calls += 1
        return {ref: self._states.get(ref, "closed") for ref in refs}


def test_open_circuits_are_skipped_and_half_open_ones_marked():
    circuits = FixedCircuits({"local/gemma": "open", "openai-main/mini": "half_open"})
    decision = route_candidates(make_catalog(), {}, NEED, circuits)
    assert refs(decision) == ["openai-main/mini", "openai-main/big", "claude/sonnet"]
    assert decision.skipped["local/gemma"] == "circuit_open"
    assert decision.half_open == {"openai-main/mini"}
    assert circuits.calls == 1  # one batch read per routing


def test_decision_serialises_to_json_with_refs_and_reasons():
    decision = route_candidates(make_catalog(disabled=("claude",)), TenantPolicy.from_settings({}), NEED)
    decision.chosen = "local/gemma"
    document = json.loads(json.dumps(decision.to_json()))
    assert document["candidates"][0] == "local/gemma" and document["chosen"] == "local/gemma"
    assert document["skipped"] == {"claude/sonnet": "provider_disabled"} and document["mode"] == "cost"


def test_unknown_sensitivity_and_mode_are_rejected():
    with pytest.raises(ValueError, match="unknown sensitivity"):
        route_candidates(make_catalog(), {}, RoutingNeed(skill_id="ask", sensitivity="secret"))
    with pytest.raises(ValueError, match="routing.mode"):
        route_candidates(make_catalog(), {"routing": {"mode": "random"}}, NEED)


def test_prompt_tokens_are_counted_with_a_real_tokenizer():
    assert count_text_tokens("Hello world, this is a test.") == 8  # o200k_base, as OpenAI counts it
    exact = count_prompt_tokens(["Hello world, this is a test."], "openai", "gpt-4.1-mini")
    assert exact == 8 + 3 + 3  # text + message framing + reply priming
    fallback = count_prompt_tokens(["Hello world, this is a test."], "anthropic", "claude-sonnet-4")
    assert fallback == pytest.approx(exact * NON_OPENAI_MARGIN, abs=1) and fallback > exact
    assert count_text_tokens("<|endoftext|>") > 1  # special-token text in a document is data, not a control token
