"""Proofreading edits checked against the text they apply to, so the add-in can apply them as tracked changes.

The model's offsets are hints only: an edit is kept when its `original` is found in the text (at the given offset,
else at the occurrence nearest to it that no kept edit overlaps); edits that cannot be located, change nothing, or
overlap an earlier one are dropped. So are edits the add-in could not find with Word's search, which takes at most
255 characters and matches within a paragraph: one such search fails the whole batch of tracked changes.
"""

from __future__ import annotations

from typing import Any

MAX_ORIGINAL_CHARS = 255  # Word's search text limit (Word.Range.search)
PARAGRAPH_BREAKS = ("\r", "\n")


def word_can_find(original: str) -> bool:
    """Whether Word's search can find this text: short enough, and within one paragraph."""
    return len(original) <= MAX_ORIGINAL_CHARS and not any(b in original for b in PARAGRAPH_BREAKS)


def _occurrences(text: str, needle: str) -> list[int]:
    """Every start offset of needle in text."""
    found, start = [], text.find(needle)
    while start != -1:
        found.append(start)
        start = text.find(needle, start + 1)
    return found


def _overlaps(start: int, end: int, taken: list[tuple[int, int]]) -> bool:
    """Whether [start, end) intersects any taken span."""
    return any(start < t_end and t_start < end for t_start, t_end in taken)


def locate_edits(text: str, edits: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The edits that really apply to text, each with exact start/end offsets, sorted by position."""
    kept: list[dict[str, Any]] = []
    taken: list[tuple[int, int]] = []
    for edit in edits:
        original, replacement = edit.get("original") or "", edit.get("replacement", "")
        if not original or original == replacement or not word_can_find(original):
            continue
        hint = edit.get("start") if isinstance(edit.get("start"), int) else None
        # the exact hinted offset first, then the other occurrences, nearest to the hint first
        candidates = sorted(_occurrences(text, original), key=lambda s: abs(s - hint) if hint is not None else s)
        start = next((s for s in candidates if not _overlaps(s, s + len(original), taken)), None)
        if start is None:
            continue
        end = start + len(original)
        taken.append((start, end))
        reason = str(edit.get("reason", ""))
        kept.append({"original": original, "replacement": replacement, "reason": reason, "start": start, "end": end})
    return sorted(kept, key=lambda e: e["start"])


def apply_edits(text: str, edits: list[dict[str, Any]]) -> str:
    """The text with located (non-overlapping) edits applied; used by tests and previews."""
    for edit in sorted(edits, key=lambda e: e["start"], reverse=True):
        text = text[: edit["start"]] + edit["replacement"] + text[edit["end"] :]
    return text
