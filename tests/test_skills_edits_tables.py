"""Edit location for proofreading, and table checks for Excel output."""

from __future__ import annotations

import pytest

from backend.skills.builtin.edits import apply_edits, locate_edits
from backend.skills.builtin.tables import cell_changes, check_header, check_rectangular, neutralize_formulas
from backend.skills.structured import OutputInvalid

TEXT = "a cat and a cat and a dog"


def test_hint_picks_the_nearest_occurrence():
    """With several matches, the one nearest the model's offset wins."""
    edits = locate_edits(TEXT, [{"original": "cat", "replacement": "cow", "reason": "r", "start": 14}])
    assert (edits[0]["start"], edits[0]["end"]) == (12, 15)


def test_repeated_originals_take_successive_occurrences():
    """Two edits of the same word without offsets apply to two different places."""
    edits = locate_edits(TEXT, [{"original": "cat", "replacement": "cow", "reason": ""}] * 3)
    assert [e["start"] for e in edits] == [2, 12]
    assert apply_edits(TEXT, edits) == "a cow and a cow and a dog"


def test_overlaps_and_noops_are_dropped():
    """An edit overlapping a kept one, an empty original and a no-op are ignored."""
    edits = locate_edits(
        TEXT,
        [
            {"original": "a cat", "replacement": "one cat", "reason": "", "start": 0},
            {"original": "cat and", "replacement": "x", "reason": "", "start": 2},
            {"original": "", "replacement": "x", "reason": ""},
            {"original": "dog", "replacement": "dog", "reason": ""},
        ],
    )
    assert [(e["original"], e["start"]) for e in edits] == [("a cat", 0), ("cat and", 12)]


def test_rectangular_and_header_checks():
    """Valid tables pass; each kind of problem says what is wrong."""
    assert check_rectangular([["a", "b"], [1, None]]) == [["a", "b"], [1, None]]
    for bad, message in [
        ([], "non-empty array"),
        ([["a"], ["b", "c"]], "same, non-zero"),
        ([[]], "same, non-zero"),
        ("table", "non-empty array"),
        ([[["nested"]]], "cells must be"),
    ]:
        with pytest.raises(OutputInvalid, match=message):
            check_rectangular(bad)
    check_header([["Name", "Age"]])
    with pytest.raises(OutputInvalid, match="header"):
        check_header([["Name", 3]])
    with pytest.raises(OutputInvalid, match="repeat"):
        check_header([["Name", " name"]])


def test_formulas_become_text_unless_allowed_and_changes_are_diffed():
    """'=...' cells get an apostrophe unless they came from the input; differences are listed per cell."""
    table = [["=A1", '=HYPERLINK("http://x")', 3]]
    assert neutralize_formulas(table, {"=A1"}) == [["=A1", '\'=HYPERLINK("http://x")', 3]]
    changes = cell_changes([["a", 1], ["b", 2]], [["A", 1], ["b", 3]], {(0, 0): "case"})
    assert changes == [
        {"row": 0, "column": 0, "before": "a", "after": "A", "reason": "case"},
        {"row": 1, "column": 1, "before": 2, "after": 3, "reason": ""},
    ]


def test_edits_word_cannot_find_are_dropped():
    """The add-in finds each edit with Word's search, whose text is at most 255 characters and stays within a
    paragraph: a longer original would fail the whole batch of tracked changes, so it is dropped here."""
    long_sentence = "This sentence is fine but the model proposed to rewrite all of it " * 5
    text = long_sentence + "\rSecond paragraph has a tpyo."
    edits = locate_edits(
        text,
        [
            {"original": long_sentence.strip(), "replacement": "Shorter.", "reason": "style"},
            {"original": "it \rSecond", "replacement": "it. Second", "reason": "join"},
            {"original": "tpyo", "replacement": "typo", "reason": "spelling"},
        ],
    )
    assert [e["original"] for e in edits] == ["tpyo"]
