"""Token-aware chunking of a whole document that keeps paragraphs whole and prefers to break at headings."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

TokenCounter = Callable[[str], int]
_HEADING = re.compile(r"^(#{1,6}\s+\S|[0-9]+(\.[0-9]+)*\.?\s+[A-Z]|[A-Z][A-Z0-9 ,:&'-]{2,80}$)")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
# A text longer than this many characters per token it may hold is split without being counted (see _fits).
MAX_CHARS_PER_TOKEN = 32
LONGEST_COUNTED_TEXT = 500_000  # well under the tokenizer's own limit of 1,000,000 characters


@dataclass(frozen=True)
class Chunk:
    """A run of consecutive paragraphs: their indexes in the document, their text and its token count."""

    index: int
    first_paragraph: int
    last_paragraph: int
    text: str
    tokens: int


def split_paragraphs(document: str) -> list[str]:
    """Paragraphs of a document (Word separates them with \\r, text with blank lines or \\n)."""
    normalised = document.replace("\r\n", "\n").replace("\r", "\n")
    return [p.strip() for p in normalised.split("\n") if p.strip()]


def is_heading(paragraph: str) -> bool:
    """A short line that looks like a Markdown, numbered or upper-case heading."""
    return len(paragraph) <= 120 and bool(_HEADING.match(paragraph))


def chunk_paragraphs(paragraphs: list[str], max_tokens: int, count_tokens: TokenCounter) -> list[Chunk]:
    """Group paragraphs into chunks of at most max_tokens; an oversized paragraph is split by sentences."""
    if max_tokens < 16:
        raise ValueError("max_tokens is too small to chunk with")
    chunks: list[Chunk] = []
    current: list[tuple[int, str, int]] = []

    def flush() -> None:
        """Close the chunk being built."""
        if current:
            text = "\n\n".join(piece for _, piece, _ in current)
            tokens = sum(t for _, _, t in current)
            chunks.append(Chunk(len(chunks), current[0][0], current[-1][0], text, tokens))
            current.clear()

    for number, paragraph in enumerate(paragraphs):
        for piece in _fit(paragraph, max_tokens, count_tokens):
            tokens = count_tokens(piece) + 2  # the separator between paragraphs costs a token or two
            used = sum(t for _, _, t in current)
            # Break before a heading once the chunk is half full: sections stay together where they can.
            if current and (used + tokens > max_tokens or (is_heading(piece) and used > max_tokens // 2)):
                flush()
            current.append((number, piece, tokens))
    flush()
    return chunks


def _tokens_with_separator(text: str, max_tokens: int, count_tokens: TokenCounter) -> int | None:
    """The text's tokens plus a separator's, or None for a text too long to count, which is taken not to fit.

    A text of more than MAX_CHARS_PER_TOKEN characters per allowed token is not counted: the tokenizer refuses very
    long texts (backend.routing.tokens.LONGEST_TEXT), and the answer only decides whether the text is split further,
    which is always safe.
    """
    if len(text) > min(max_tokens * MAX_CHARS_PER_TOKEN, LONGEST_COUNTED_TEXT):
        return None
    return count_tokens(text) + 2


def _fits(text: str, max_tokens: int, count_tokens: TokenCounter) -> bool:
    """True when the text and a separator fit in max_tokens."""
    tokens = _tokens_with_separator(text, max_tokens, count_tokens)
    return tokens is not None and tokens <= max_tokens


def _fit(paragraph: str, max_tokens: int, count_tokens: TokenCounter) -> list[str]:
    """The paragraph itself, or sentence groups (and, for a monster sentence, word groups) that fit."""
    if _fits(paragraph, max_tokens, count_tokens):
        return [paragraph]
    pieces: list[str] = []
    last_tokens = max_tokens  # tokens of pieces[-1] with its separator; nothing is joined to a group of words
    for unit in _SENTENCE_END.split(paragraph):
        unit_tokens = _tokens_with_separator(unit, max_tokens, count_tokens)
        if unit_tokens is None or unit_tokens > max_tokens:
            pieces.extend(_split_words(unit, max_tokens, count_tokens))
            last_tokens = max_tokens
            continue
        # Counted with its joining space, as in _split_words: each sentence once, not the growing group again.
        joined = count_tokens(" " + unit)
        if pieces and last_tokens + joined <= max_tokens:
            pieces[-1] = pieces[-1] + " " + unit
            last_tokens += joined
        else:
            pieces.append(unit)
            last_tokens = unit_tokens
    return pieces


def _split_words(text: str, max_tokens: int, count_tokens: TokenCounter) -> list[str]:
    """Greedy word groups under the limit, for text without sentence breaks.

    Each word is counted once, with the space that joins it to the group: the tokenizer never merges across a
    space before a word, so the sum is the group's count, and the work stays linear in the text's length.
    """
    pieces: list[str] = []
    current: list[str] = []
    used = 2  # the separator between paragraphs
    for word in text.split():
        for part in _cut_word(word, max_tokens, count_tokens):
            tokens = count_tokens(" " + part) if current else count_tokens(part)
            if current and used + tokens > max_tokens:
                pieces.append(" ".join(current))
                current, used = [], 2
                tokens = count_tokens(part)
            current.append(part)
            used += tokens
    if current:
        pieces.append(" ".join(current))
    return pieces


def _cut_word(word: str, max_tokens: int, count_tokens: TokenCounter) -> list[str]:
    """The word, or slices of it that each fit (an embedded base64 blob, a long URL): a character is at most four
    bytes and a token at least one, so a slice of (max_tokens - 2) // 4 characters always fits."""
    if _fits(word, max_tokens, count_tokens):
        return [word]
    size = max(1, (max_tokens - 2) // 4)
    return [word[start : start + size] for start in range(0, len(word), size)]
