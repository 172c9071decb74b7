"""Prompt token counting with a real BPE tokenizer that works offline.

`bpe-openai` bundles OpenAI's encodings (tiktoken would download its BPE files at first use, which fails offline).
OpenAI and Azure OpenAI models are counted exactly with their own encoding (o200k_base when the model is unknown).
Fallback for every other model (Anthropic, Llama/Gemma/Qwen behind vLLM or llama.cpp): their tokenizers are not
bundled, so the o200k_base count is scaled up by NON_OPENAI_MARGIN. The margin errs on the safe side: the count is
used to check the context window and to reserve budget, where over-estimating costs little and under-estimating
fails the call.

A text is counted whole by the encoding's Rust tokenizer, and nothing of it is remembered: prompts carry document
text, which must not outlive the request in process memory. A memory of each pre-tokenizer piece's count (keyed by
the piece's text) was tried and bought nothing measurable: datamarked documents split into long, rarely repeated
pieces, and counting the whole text costs no more than looking the pieces up (docs/performance.md).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable
from functools import lru_cache
from types import ModuleType

DEFAULT_ENCODING = "o200k_base"
# bpe_openai refuses texts this long (and so does this module, the same way).
LONGEST_TEXT = 1_000_000
NON_OPENAI_MARGIN = 1.25
OPENAI_TYPES = frozenset({"openai", "azure_openai"})
# Chat formatting: every message is wrapped in a few special tokens, and the reply is primed with a few more.
TOKENS_PER_MESSAGE = 3
TOKENS_PER_REPLY = 3


@lru_cache(maxsize=1)
def tokenizer_package() -> ModuleType:
    """bpe_openai, imported on first use and quietly (no import-time cost for the app)."""
    with warnings.catch_warnings():
        # It reads its bundled files with importlib.resources.open_binary, deprecated in Python 3.11; harmless.
        warnings.simplefilter("ignore", DeprecationWarning)
        import bpe_openai
    return bpe_openai


@lru_cache(maxsize=256)
def encoding_name_for(model_id: str) -> str:
    """The encoding of an OpenAI model id, or the default for ids the package does not know."""
    try:
        return tokenizer_package().encoding_name_for_model(model_id)
    except (KeyError, ValueError):  # UnsupportedModelError is a KeyError
        return DEFAULT_ENCODING


class TextCounter:
    """Counts a text's tokens with one encoding's tokenizer; keeps nothing of the texts it counts."""

    def __init__(self, encoding_name: str) -> None:
        """The counter of one encoding (about 0.15 s to load)."""
        tokenizer_package()  # imported quietly first
        from bpe_openai._bindings import tokenizer_for_encoding  # the Rust tokenizer behind bpe_openai's Encoding

        self.tokenizer = tokenizer_for_encoding(encoding_name)

    def count(self, text: str) -> int:
        """Tokens of `text`, special-token strings counted as ordinary text."""
        if len(text) >= LONGEST_TEXT:
            raise ValueError("Input too long to encode safely")
        try:
            return self.tokenizer.count(text)
        except UnicodeEncodeError:  # a lone surrogate: counted as bpe_openai counts it, as U+FFFD
            return self.tokenizer.count(text.encode("utf-16", "surrogatepass").decode("utf-16", "replace"))


@lru_cache(maxsize=8)
def text_counter(encoding_name: str) -> TextCounter:
    """The counter of an encoding (its tokenizer loaded once per process)."""
    return TextCounter(encoding_name)


def count_text_tokens(text: str, encoding_name: str = DEFAULT_ENCODING) -> int:
    """Tokens of one text, special-token strings counted as ordinary text (document text is data)."""
    return text_counter(encoding_name).count(text)


def count_prompt_tokens(texts: Iterable[str], provider_type: str | None = None, model_id: str = "") -> int:
    """Tokens of a chat prompt made of these message texts, for a model of this provider type.

    provider_type None counts conservatively for any model (the non-OpenAI fallback), which is what the router
    needs before it knows the model.
    """
    texts = list(texts)
    name = encoding_name_for(model_id) if provider_type in OPENAI_TYPES and model_id else DEFAULT_ENCODING
    exact = sum(count_text_tokens(t, name) for t in texts) + TOKENS_PER_MESSAGE * len(texts) + TOKENS_PER_REPLY
    if provider_type in OPENAI_TYPES:
        return exact
    return math.ceil(exact * NON_OPENAI_MARGIN)
