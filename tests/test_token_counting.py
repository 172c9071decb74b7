"""Prompt tokens counted piece by piece (backend/routing/tokens.py) equal the encoding's own whole-text count."""

from __future__ import annotations

import random

import pytest

from backend.routing import tokens
from backend.routing.tokens import PieceCounter, count_text_tokens, tokenizer_package

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
def test_the_sum_over_pieces_is_the_whole_count(encoding_name):
    rng = random.Random(20261201)
    whole = encoding(encoding_name)
    counter = PieceCounter(encoding_name)  # a fresh memory: the first texts fill it, the later ones read it
    for _ in range(400):
        text = random_text(rng)
        assert counter.count(text) == len(whole.encode_ordinary(text)), text


def test_a_lone_surrogate_counts_as_the_encoding_counts_it():
    text = "before \ud800 after"
    assert count_text_tokens(text) == len(encoding("o200k_base").encode_ordinary(text))


def test_remembered_pieces_are_bounded_and_long_pieces_are_not_kept(monkeypatch):
    monkeypatch.setattr(tokens, "PIECE_CACHE_SIZE", 5)
    counter = PieceCounter("o200k_base")
    counter.count("one two three four five six seven")
    assert 0 < len(counter.pieces) <= 5
    counter.count("y" * 500)
    assert all(len(piece) <= tokens.LONGEST_CACHED_PIECE for piece in counter.pieces)
    assert counter.count("y" * 500) == len(encoding("o200k_base").encode_ordinary("y" * 500))


def test_a_text_too_long_to_encode_is_refused_as_the_encoding_refuses_it():
    with pytest.raises(ValueError):
        count_text_tokens("a" * tokens.LONGEST_TEXT)
