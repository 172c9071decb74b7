"""Counting a prompt's tokens (backend/routing/tokens.py) keeps no document text in process memory: nothing reachable
from the counters and the module's caches holds a word of the document once it is counted, and the counts are the
encoding's own."""

from __future__ import annotations

import gc
import types

from backend.routing import tokens
from backend.routing.tokens import count_prompt_tokens, count_text_tokens, tokenizer_package
from backend.skills.spotlight import datamark

SENTINEL = "Sentinel" + "Quokka"  # built at run time: the search below must not find this module's own constant
DOCUMENT = f"The {SENTINEL} merger closes Friday; the price is 41 million.\n{SENTINEL}'s board signs."


def encoded_length(text: str) -> int:
    """The reference count: bpe_openai's own encoding of the whole text."""
    return len(tokenizer_package().get_encoding("o200k_base").encode_ordinary(text))


def texts_reachable_from(*roots: object, depth: int = 8) -> list[str]:
    """Every str and bytes reachable from the roots through containers and plain objects (not through modules,
    functions or classes, which reach the whole program)."""
    found, seen, frontier = [], set(), list(roots)
    for _ in range(depth):
        following = []
        for obj in frontier:
            if id(obj) in seen or isinstance(obj, types.ModuleType | types.FunctionType | type):
                continue
            seen.add(id(obj))
            if isinstance(obj, str | bytes):
                found.append(obj if isinstance(obj, str) else obj.decode("utf-8", "replace"))
            elif isinstance(obj, dict):  # the garbage collector does not show the str keys of a dict
                following.extend([*obj.keys(), *obj.values()])
            else:
                following.extend(gc.get_referents(obj))
        frontier = following
    return found


def test_no_text_of_a_counted_document_stays_in_the_counters_or_the_caches():
    """The caches the module keeps (the tokenizer package, encoding names, the counters and what they hold) hold no
    piece of the document."""
    for text in (DOCUMENT, datamark(DOCUMENT)):
        assert count_text_tokens(text) == encoded_length(text)
        assert count_prompt_tokens([text], "openai", "gpt-4.1") == encoded_length(text) + 6
    caches = [getattr(tokens, name) for name in dir(tokens) if hasattr(getattr(tokens, name), "cache_info")]
    assert len(caches) >= 2, "the module's lru caches are searched"
    reachable = texts_reachable_from(*caches)  # the counters too: the cache of counters holds them
    assert "o200k_base" in reachable, "the search reaches the caches' keys"
    assert [text for text in reachable if SENTINEL in text or "merger" in text] == []


def test_counts_of_repeated_and_marked_texts_stay_the_encodings_own():
    """The same text counted again (once served from a memory) and its datamarked form: the encoding's counts."""
    for text in (DOCUMENT, DOCUMENT, datamark(DOCUMENT), DOCUMENT * 3):
        assert count_text_tokens(text) == encoded_length(text)
