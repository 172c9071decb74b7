"""Make model output safe for the task pane.

- Raw HTML is removed: the pane must never render markup a document smuggled into an answer.
- Echoed spotlighting delimiters (`<<<DATA selection 1f2e...>>>`) are removed: they frame the prompt, not the answer.
- Markdown images and links survive only when they point at an allow-listed host: an image URL carrying document
  text in its query string is the classic exfiltration channel (the pane fetches it without a click).
- Rewrite-style skills return only the new text, without "Certainly! Here is..." preambles or closing offers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

# Element names, so that "A1<B1 and C1>D1" in a formula explanation is not mistaken for a tag.
HTML_ELEMENTS = (
    "a abbr address area article aside audio b base bdi bdo blockquote body br button canvas caption cite code col "
    "colgroup data datalist dd del details dfn dialog div dl dt em embed fieldset figcaption figure font footer form "
    "frame frameset h1 h2 h3 h4 h5 h6 head header hr html i iframe img input ins kbd label legend li link main map "
    "mark meta meter nav noscript object ol optgroup option output p param picture pre progress q rp rt ruby s samp "
    "script section select small source span strong style sub summary sup svg table tbody td template textarea tfoot "
    "th thead time title tr track u ul var video wbr math base"
).split()
# Elements removed with their content (one list: the stream sanitiser's settle check reads it too).
DANGEROUS_ELEMENTS = ("script", "style", "iframe", "object", "embed", "svg", "math", "template")
_DANGEROUS_BLOCKS = re.compile(r"<(" + "|".join(DANGEROUS_ELEMENTS) + r")\b.*?</\1\s*>", re.I | re.S)
_TAG = re.compile(r"</?(?:" + "|".join(HTML_ELEMENTS) + r")\b[^<>]*>", re.I)
_COMMENT = re.compile(r"<!--.*?(?:-->|$)", re.S)
_AUTOLINK = re.compile(r"<(?:https?|ftp|mailto|javascript|data):[^<>\s]*>", re.I)
# The URL is the first word inside the parentheses; the rest (a title, or spaces a lenient renderer would accept
# inside the URL) is matched up to the closing parenthesis so that the whole construct goes.
_IMAGE = re.compile(r"!\[(?P<alt>[^\]]*)\]\(\s*<?(?P<url>[^)\s>]*)[^)\n]*\)")
_LINK = re.compile(r"\[(?P<text>[^\]]*)\]\(\s*<?(?P<url>[^)\s>]*)[^)\n]*\)")
# What is left of any link or image after those two: its target. Brackets nest in a link's words ("[a [b] c](url)"),
# which the two above do not follow, so every remaining `](url)` to another host loses its target as well.
_LINK_TARGET = re.compile(r"\]\(\s*<?(?P<url>[^)\s>]*)[^)\n]*\)")
# The spotlighting delimiters (backend/skills/spotlight.py) echoed back: small models repeat their prompt's framing.
# Only the delimiter goes, never its line break: the stream sanitiser settles at line ends (skills/streaming.py).
_DATA_BOUNDARY = re.compile(r"<<<(?:END )?DATA\b[^<>\n]*>>>")
_REF_IMAGE = re.compile(r"!\[(?P<alt>[^\]]*)\]\[[^\]]*\]")
REF_DEFINITION = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(?P<url>\S+?)>?(?:\s+.*)?$", re.M)

# An opener or a closing offer is removed only when it speaks of the answer itself: a rewritten e-mail may well
# open with "Here are the dates:" or "I have two questions:" and end with "Let me know if Friday works."
_ABOUT_THE_ANSWER = (
    r"(?:rewrit|re-writ|revis|translat|summar|version|draft|text|passage|paragraph|polish|edit|proofread|improv|"
    r"tone|formal|friendl|concise|expand|shorten|simplif|clearer)"
)
_PREAMBLE = re.compile(
    r"^\s*(?:(?:certainly|sure|of course|absolutely|okay|ok|great|no problem)[!.,]?\s*)?"
    r"(?:here(?:'s| is| are)\b|below is\b|i(?:'ve| have)\b)[^\n]*?" + _ABOUT_THE_ANSWER + r"[^\n]*?:\s*\n",
    re.I,
)
_BARE_PREAMBLE = re.compile(r"^\s*(?:certainly|sure|of course|absolutely)[!.,]?\s*\n", re.I)
CLOSING_PHRASES = ("let me know", "i hope this", "feel free to", "if you'd like", "if you would like", "would you like")
_OFFER = (
    r"(?:chang|adjust|tweak|modif|revis|edit|version|refin|rewrit|translat|shorter|longer|formal|tone|expand|polish|"
    r"helps)"
)
_CLOSING = re.compile(r"\n\s*(?:" + "|".join(CLOSING_PHRASES) + r")(?=[^\n]*" + _OFFER + r")[^\n]*\s*$", re.I)
_FENCE = re.compile(r"^\s*```[\w-]*\n(?P<body>.*)\n```\s*$", re.S)


def host_allowed(url: str, allowed_hosts: Iterable[str]) -> bool:
    """Whether an http(s) URL points at an allow-listed host (exactly, or a subdomain of one)."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return False
    host = parts.hostname.lower()
    return any(host == h.lower() or host.endswith("." + h.lower()) for h in allowed_hosts)


def strip_html(text: str) -> str:
    """Remove HTML comments, dangerous elements with their content, other tags, and <scheme:...> autolinks."""
    return strip_tags(strip_comments_and_blocks(text))


def strip_comments_and_blocks(text: str) -> str:
    """strip_html's first stage: HTML comments, then dangerous elements with their content."""
    return _DANGEROUS_BLOCKS.sub("", _COMMENT.sub("", text))


def strip_tags(text: str) -> str:
    """strip_html's second stage: <scheme:...> autolinks, echoed data delimiters, then the tags of known elements."""
    return _TAG.sub("", _DATA_BOUNDARY.sub("", _AUTOLINK.sub("", text)))


def without_images(text: str) -> str:
    """The text without any image, allowed or not: what strip_untrusted_links may remove before a definition."""
    return _REF_IMAGE.sub("", _IMAGE.sub("", text))


def strip_untrusted_links(text: str, allowed_hosts: Iterable[str] = ()) -> str:
    """Drop images and reference definitions to non-allowed hosts; keep only the words of such links."""
    allowed = tuple(allowed_hosts)

    def image(match: re.Match) -> str:
        return match.group(0) if host_allowed(match.group("url"), allowed) else ""

    def link(match: re.Match) -> str:
        return match.group(0) if host_allowed(match.group("url"), allowed) else match.group("text")

    def definition(match: re.Match) -> str:
        return match.group(0) if host_allowed(match.group("url"), allowed) else ""

    text = _IMAGE.sub(image, text)
    text = _REF_IMAGE.sub("", text)

    def target(match: re.Match) -> str:
        return match.group(0) if host_allowed(match.group("url"), allowed) else "]"

    text = _LINK.sub(link, text)
    text = _LINK_TARGET.sub(target, text)
    return REF_DEFINITION.sub(definition, text)


def strip_preamble(text: str) -> str:
    """Only the new text of a rewrite: no "Here is the rewritten text:" opener, closing offer, or wrapping fence."""
    text = _PREAMBLE.sub("", text, count=1)
    text = _BARE_PREAMBLE.sub("", text, count=1)
    text = _CLOSING.sub("", text)
    fenced = _FENCE.match(text)
    if fenced:
        text = fenced.group("body")
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] == '"' and text.count('"') == 2:
        text = text[1:-1]  # the whole rewrite wrapped in quotes
    return text


def sanitize_output(text: str, allowed_hosts: Iterable[str] = (), rewrite_style: bool = False) -> str:
    """Everything the task pane needs before showing or inserting a text answer."""
    text = strip_untrusted_links(strip_html(text), allowed_hosts)
    if rewrite_style:
        text = strip_preamble(text)
    return text.strip()
