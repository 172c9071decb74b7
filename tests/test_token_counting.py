"""Prompt tokens counted by backend/routing/tokens.py equal the encoding's own count (`encode_ordinary`)."""

from __future__ import annotations

import random

import pytest

from backend.routing import tokens
from backend.routing.tokens import TextCounter, count_text_tokens, tokenizer_package

ALPHABET = [
    "the", " quarterly", " report", "Revenue", " don't", " I'm", " WE'LL", "  ", "\n", "\n\n", "\t", " \n ", "123",
    "4567890", " 3.14", "-", "!!", "...", "é", "ß", "naïve", " café", "東京", "日本語の文章", "😀", "👩‍💻", "ÅÄÖ",
    "<|endoftext|>", "<|im_start|>", "=SUM(A1:B2)", "http://example.com/a?b=c", "'s", "’", "\u00a0", "\u200b",
    "x" * 80, " " * 70, "9" * 100,
]  # fmt: skip


def encoding(name: str):
    """The reference: bpe_openai's own Encoding, which counts a whole text at once."""
    return tokenizer_package().get_encoding(name)


def random_text(rng: random.Random) -> str:
    """Words, numbers, whitespace runs, scripts, emoji and special-token strings, glued together at random."""
    return "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 60)))


@pytest.mark.parametrize("encoding_name", ["o200k_base", "cl100k_base"])
def test_the_count_is_the_encodings_own(encoding_name):
    rng = random.Random(20261201)
    whole = encoding(encoding_name)
    counter = TextCounter(encoding_name)
    for _ in range(400):
        text = random_text(rng)
        assert counter.count(text) == len(whole.encode_ordinary(text)), text


def test_a_lone_surrogate_counts_as_the_encoding_counts_it():
    text = "before \ud800 after"
    assert count_text_tokens(text) == len(encoding("o200k_base").encode_ordinary(text))


def test_a_long_run_counts_as_the_encoding_counts_it():
    assert count_text_tokens("y" * 500) == len(encoding("o200k_base").encode_ordinary("y" * 500))


def test_a_text_too_long_to_encode_is_refused_as_the_encoding_refuses_it():
    with pytest.raises(ValueError):
        count_text_tokens("a" * tokens.LONGEST_TEXT)
