"""Token-aware chunking of a whole document that keeps paragraphs whole and prefers to break at headings."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

TokenCounter = Callable[[str], int]
_HEADING = re.compile(r"^(#{1,6}\s+\S|[0-9]+(\.[0-9]+)*\.?\s+[A-Z]|[A-Z][A-Z0-9 ,:&'-]{2,80}$)")
# Where a sentence ends: before the space after . ! ? and right after the full stops of scripts written without
# spaces (CJK) or with their own marks (Arabic, Urdu); the space stays with the next sentence, so joining is plain
# concatenation and a split paragraph joins back into itself.
_SENTENCE_END = re.compile(r"(?<=[.!?])(?=\s)|(?<=[。！？｡؟۔])")
# Characters that belong to the character before them: a cut must not separate them (an accent from its letter,
# a skin tone or a ZWJ sequence from its emoji). At most this many characters are given back to find a safe cut.
_JOINERS = frozenset("\u200c\u200d\u034f") | frozenset(map(chr, range(0xFE00, 0xFE10)))
_EMOJI_MODIFIERS = range(0x1F3FB, 0x1F400)
_TAGS = range(0xE0020, 0xE0080)
LONGEST_CLUSTER = 32
# A text longer than this many characters per token it may hold is split without being counted (see _fits).
MAX_CHARS_PER_TOKEN = 32
LONGEST_COUNTED_TEXT = 500_000  # well under the tokenizer's own limit of 1,000,000 characters


@dataclass(frozen=True)
class Chunk:
    """A run of consecutive pieces: the indexes of their paragraphs and of the pieces, their text and tokens."""

    index: int
    first_paragraph: int
    last_paragraph: int
    text: str
    tokens: int
    first_piece: int = 0
    last_piece: int = 0


@dataclass(frozen=True)
class Piece:
    """A paragraph that fits a chunk (part 0 of 1), or one part of a paragraph too long for one."""

    paragraph: int
    part: int
    parts: int
    text: str
    tokens: int  # with the separator between paragraphs


def split_paragraphs(document: str) -> list[str]:
    """Paragraphs of a document (Word separates them with \\r, text with blank lines or \\n)."""
    normalised = document.replace("\r\n", "\n").replace("\r", "\n")
    return [p.strip() for p in normalised.split("\n") if p.strip()]


def is_heading(paragraph: str) -> bool:
    """A short line that looks like a Markdown, numbered or upper-case heading."""
    return len(paragraph) <= 120 and bool(_HEADING.match(paragraph))


def paragraph_pieces(paragraphs: list[str], max_tokens: int, count_tokens: TokenCounter) -> list[Piece]:
    """Each paragraph whole, or in the parts of at most max_tokens it is split into (sentences, then words)."""
    if max_tokens < 16:
        raise ValueError("max_tokens is too small to chunk with")
    pieces: list[Piece] = []
    for number, paragraph in enumerate(paragraphs):
        parts = _fit(paragraph, max_tokens, count_tokens)
        for part, text in enumerate(parts):
            # The separator between paragraphs costs a token or two.
            pieces.append(Piece(number, part, len(parts), text, count_tokens(text) + 2))
    return pieces


def chunk_paragraphs(paragraphs: list[str], max_tokens: int, count_tokens: TokenCounter) -> list[Chunk]:
    """Group paragraphs into chunks of at most max_tokens; an oversized paragraph is split by sentences."""
    return chunk_pieces(paragraph_pieces(paragraphs, max_tokens, count_tokens), max_tokens)


def chunk_pieces(pieces: list[Piece], max_tokens: int) -> list[Chunk]:
    """Group consecutive pieces (see `paragraph_pieces`) into chunks of at most max_tokens."""
    chunks: list[Chunk] = []
    current: list[tuple[int, Piece]] = []

    def flush() -> None:
        """Close the chunk being built."""
        if current:
            text = "\n\n".join(piece.text for _, piece in current)
            tokens = sum(piece.tokens for _, piece in current)
            first, last = current[0], current[-1]
            chunks.append(Chunk(len(chunks), first[1].paragraph, last[1].paragraph, text, tokens, first[0], last[0]))
            current.clear()

    used = 0
    for number, piece in enumerate(pieces):
        # Break before a heading once the chunk is half full: sections stay together where they can.
        if current and (used + piece.tokens > max_tokens or (is_heading(piece.text) and used > max_tokens // 2)):
            flush()
            used = 0
        current.append((number, piece))
        used += piece.tokens
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
        bare = unit.lstrip()
        if not bare:
            continue
        unit_tokens = _tokens_with_separator(bare, max_tokens, count_tokens)
        if unit_tokens is None or unit_tokens > max_tokens:
            pieces.extend(_split_words(bare, max_tokens, count_tokens))
            last_tokens = max_tokens
            continue
        # Counted with the space before it (if any), as in _split_words: each sentence once, not the group again.
        joined = count_tokens(unit)
        if pieces and last_tokens + joined <= max_tokens:
            pieces[-1] = pieces[-1] + unit
            last_tokens += joined
        else:
            pieces.append(bare)
            last_tokens = unit_tokens
    return pieces


def _split_words(text: str, max_tokens: int, count_tokens: TokenCounter) -> list[str]:
    """Greedy word groups under the limit, for text without sentence breaks.

    Each word is counted once, with the space that joins it to the group: the tokenizer never merges across a
    space before a word, so the sum is the group's count, and the work stays linear in the text's length. The
    slices of a word cut in parts join without a space (CJK text has none between its words).
    """
    pieces: list[str] = []
    current: list[str] = []
    used = 2  # the separator between paragraphs
    for word in text.split():
        for index, part in enumerate(_cut_word(word, max_tokens, count_tokens)):
            glued = part if index else " " + part
            tokens = count_tokens(glued) if current else count_tokens(part)
            if current and used + tokens > max_tokens:
                pieces.append("".join(current))
                current, used = [], 2
                tokens, glued = count_tokens(part), part
            current.append(glued if current else part)
            used += tokens
    if current:
        pieces.append("".join(current))
    return pieces


def _cut_word(word: str, max_tokens: int, count_tokens: TokenCounter) -> list[str]:
    """The word, or slices of it that each fit (an embedded base64 blob, a long URL, a CJK sentence): a character
    is at most four bytes and a token at least one, so a slice of (max_tokens - 2) // 4 characters always fits. A
    cut never separates a character from the marks and joiners that belong to it (see `_joins_previous`)."""
    if _fits(word, max_tokens, count_tokens):
        return [word]
    size = max(1, (max_tokens - 2) // 4)
    slices: list[str] = []
    start = 0
    while start < len(word):
        end = min(start + size, len(word))
        cut = end
        while cut < len(word) and cut > end - LONGEST_CLUSTER and cut > start + 1 and _joins_previous(word, cut):
            cut -= 1
        if cut < len(word) and _joins_previous(word, cut):
            cut = end  # a cluster longer than LONGEST_CLUSTER: cut it where the size says
        slices.append(word[start:cut])
        start = cut
    return slices


def _joins_previous(text: str, index: int) -> bool:
    """True when text[index] belongs with the character before it (a combining mark, a joiner, an emoji modifier,
    a character after a zero-width joiner, the second of two regional indicators)."""
    char, before = text[index], text[index - 1]
    code = ord(char)
    if char in _JOINERS or before == "\u200d" or code in _EMOJI_MODIFIERS or code in _TAGS:
        return True
    if 0x1F1E6 <= code <= 0x1F1FF and 0x1F1E6 <= ord(before) <= 0x1F1FF:
        return True  # a flag is two regional indicators (an odd cut inside a run of flags is still possible)
    return unicodedata.category(char) in ("Mn", "Mc", "Me")
