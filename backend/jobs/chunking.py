"""Token-aware chunking of a whole document that keeps paragraphs whole and prefers to break at headings."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

TokenCounter = Callable[[str], int]
_HEADING = re.compile(r"^(#{1,6}\s+\S|[0-9]+(\.[0-9]+)*\.?\s+[A-Z]|[A-Z][A-Z0-9 ,:&'-]{2,80}$)")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


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


def _fit(paragraph: str, max_tokens: int, count_tokens: TokenCounter) -> list[str]:
    """The paragraph itself, or sentence groups (and, for a monster sentence, word groups) that fit."""
    if count_tokens(paragraph) + 2 <= max_tokens:
        return [paragraph]
    pieces: list[str] = []
    for unit in _SENTENCE_END.split(paragraph):
        if count_tokens(unit) + 2 > max_tokens:
            pieces.extend(_split_words(unit, max_tokens, count_tokens))
        elif pieces and count_tokens(pieces[-1] + " " + unit) + 2 <= max_tokens:
            pieces[-1] = pieces[-1] + " " + unit
        else:
            pieces.append(unit)
    return pieces


def _split_words(text: str, max_tokens: int, count_tokens: TokenCounter) -> list[str]:
    """Greedy word groups under the limit, for text without sentence breaks."""
    pieces, current = [], []
    for word in text.split():
        candidate = " ".join([*current, word])
        if current and count_tokens(candidate) + 2 > max_tokens:
            pieces.append(" ".join(current))
            current = [word]
        else:
            current.append(word)
    if current:
        pieces.append(" ".join(current))
    return pieces
