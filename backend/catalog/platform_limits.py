"""A tenant may narrow a platform model, never widen it: at the platform's URL the model is the one the platform
describes, so a larger context window or output limit, or a capability it lacks (json_schema, tools, streaming), is a
claim the provider would answer with a 400 once routing believed it.

A PATCH that widens is refused (`Widening`, reported by the admin check); a row stored before that rule, or sent back
unchanged, is read with the platform's limits (`within_platform_limits`): the narrower of the two always wins.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from backend.providers.base import ModelSpec

LIMIT_FIELDS = ("context_window", "max_output_tokens")


@dataclass(frozen=True)
class Widening:
    """One field of a tenant's model override that claims more than the platform's model offers."""

    index: int  # of the model in the provider entry's `models` list
    model_id: str
    field: str  # context_window | max_output_tokens | capabilities
    message: str


def widenings(index: int, model: ModelSpec, base: ModelSpec) -> list[Widening]:
    """Where `model` (a tenant's override, parsed over `base`) claims more than the platform's `base`."""
    found = [
        Widening(
            index,
            model.id,
            name,
            f"{getattr(model, name)} is more than the platform's {getattr(base, name)} for {base.ref}: "
            "a tenant may only lower it",
        )
        for name in LIMIT_FIELDS
        if getattr(model, name) > getattr(base, name)
    ]
    extra = model.capabilities - base.capabilities
    if extra:
        lacking = ", ".join(sorted(extra))
        message = f"{base.ref} has no {lacking} on the platform: a tenant may only leave capabilities out"
        found.append(Widening(index, model.id, "capabilities", message))
    return found


def within_platform_limits(model: ModelSpec, base: ModelSpec) -> ModelSpec:
    """The override with the platform's limits wherever it claims more: the narrower value, the common capabilities."""
    return replace(
        model,
        context_window=min(model.context_window, base.context_window),
        max_output_tokens=min(model.max_output_tokens, base.max_output_tokens),
        capabilities=model.capabilities & base.capabilities,
    )
