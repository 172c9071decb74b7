"""Hierarchical reduce: group partial results into calls that fit the model, level by level, until one is left."""

from __future__ import annotations

from collections.abc import Callable

TokenCounter = Callable[[str], int]


def reduce_groups(partials: list[str], max_input_tokens: int, count_tokens: TokenCounter) -> list[list[int]]:
    """Indexes of partials grouped so each group's text fits one reduce call (at least two per group if possible)."""
    groups: list[list[int]] = []
    current: list[int] = []
    used = 0
    for index, text in enumerate(partials):
        tokens = count_tokens(text) + 4
        if current and used + tokens > max_input_tokens:
            groups.append(current)
            current, used = [], 0
        current.append(index)
        used += tokens
    if current:
        groups.append(current)
    return groups
