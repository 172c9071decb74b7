"""Streamed text whose characters arrive in halves: a provider (or a proxy slicing UTF-16 strings) may send an emoji's
surrogate pair as `"\\ud83d"` in one chunk and `"\\ude00"` in the next. Python keeps them as two lone surrogates,
which no UTF-8 encoder accepts, so the SSE write of such a delta failed. Here halves are held and joined."""

from __future__ import annotations

import re

_SURROGATE = re.compile("[\ud800-\udfff]")
REPLACEMENT = "\ufffd"


class SurrogateJoiner:
    """Feed each chunk's text; get it back with surrogate pairs joined and a trailing high half held for the next."""

    def __init__(self) -> None:
        self.held = ""

    def feed(self, text: str) -> str:
        """The text to pass on (pairs joined, a lone half replaced by U+FFFD); may be empty."""
        text, self.held = self.held + text, ""
        if text and "\ud800" <= text[-1] <= "\udbff":
            text, self.held = text[:-1], text[-1]
        if _SURROGATE.search(text):
            text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
        return text

    def flush(self) -> str:
        """At the end: a high half that never got its pair, as U+FFFD."""
        held, self.held = self.held, ""
        return REPLACEMENT if held else ""
