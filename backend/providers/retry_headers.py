"""How long a throttled or failing provider asks to be left alone, read from its response headers.

Retry-After (seconds or an HTTP date) and retry-after-ms (OpenAI, Azure OpenAI) say it outright. A 429 without them
may still say when its limits reset: OpenAI's and Azure's `x-ratelimit-reset-requests` / `-tokens` (Go durations such
as "1s", "6m0s", "20ms", "1h2m3.5s") and Anthropic's `anthropic-ratelimit-{requests,tokens,input-tokens,output-tokens}
-reset` (RFC 3339 timestamps). Every wait is held within [0, MAX_RETRY_AFTER_SECONDS]; a value that does not parse is
ignored, never an exception (a provider or a proxy in front of one may send anything).
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any

# A throttled platform model is skipped by every tenant while its circuit is open: a provider (or a proxy in front of
# one) asking for longer than this is held to it, and the half-open probe then asks again.
MAX_RETRY_AFTER_SECONDS = 3600.0

# Go's duration units (time.ParseDuration) in seconds; a duration is one or more <number><unit>, e.g. "1h2m3.5s".
DURATION_UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ns": 1e-9}
_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(h|ms|m|s|us|µs|μs|ns)")
_DURATION = re.compile(rf"(?:{_DURATION_PART.pattern})+")
MAX_HEADER_CHARS = 64  # longer values are not a duration or a timestamp any provider sends: ignored unparsed


def wait_seconds(headers: Any, status: int) -> float | None:
    """The seconds an error answer asks us to wait: Retry-After or retry-after-ms, else for a 429 its rate limits'
    resets (rate_limit_reset_seconds); None when the answer says nothing usable."""
    if headers is None:
        return None
    explicit = retry_after_seconds(headers)
    if explicit is not None or status != 429:
        return explicit
    return rate_limit_reset_seconds(headers)


def retry_after_seconds(headers: Any) -> float | None:
    """Seconds to wait from Retry-After (seconds or an HTTP date) or OpenAI's retry-after-ms, within
    [0, MAX_RETRY_AFTER_SECONDS]; None when absent or not a number (NaN, infinity)."""
    if headers is None:
        return None
    millis = headers.get("retry-after-ms")
    if millis:
        seconds = _finite_seconds(millis, scale=1000)
        if seconds is not None:
            return seconds
    value = headers.get("retry-after")
    if not value:
        return None
    seconds = _finite_seconds(value)
    if seconds is not None:
        return seconds
    try:
        return _bounded(parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError, OverflowError):
        return None


def duration_seconds(value: str, now: float) -> float | None:
    """A Go duration ("6m0s", "20ms", "1h2m3.5s"; "0") in seconds, or None; `now` is unused (durations are
    relative), taken so that every reset parser has the same shape."""
    value = value.strip()
    if value == "0":
        return 0.0
    if not _DURATION.fullmatch(value):
        return None
    seconds = sum(float(number) * DURATION_UNITS[unit] for number, unit in _DURATION_PART.findall(value))
    return seconds if math.isfinite(seconds) else None


def timestamp_seconds(value: str, now: float) -> float | None:
    """Seconds from `now` until an RFC 3339 timestamp ("2026-12-02T03:04:05Z"), or None; a timestamp without a
    UTC offset is not RFC 3339 and is ignored rather than guessed."""
    try:
        moment = datetime.fromisoformat(value.strip())
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        return None
    try:
        return moment.timestamp() - now
    except (OverflowError, ValueError):
        return None


# Each rate limit a 429 may report: the header with its reset, the header with what remains of it, and how the reset
# is written (a duration from now, or a moment).
RATE_LIMITS: tuple[tuple[str, str, Callable[[str, float], float | None]], ...] = (
    ("x-ratelimit-reset-requests", "x-ratelimit-remaining-requests", duration_seconds),
    ("x-ratelimit-reset-tokens", "x-ratelimit-remaining-tokens", duration_seconds),
    ("anthropic-ratelimit-requests-reset", "anthropic-ratelimit-requests-remaining", timestamp_seconds),
    ("anthropic-ratelimit-tokens-reset", "anthropic-ratelimit-tokens-remaining", timestamp_seconds),
    ("anthropic-ratelimit-input-tokens-reset", "anthropic-ratelimit-input-tokens-remaining", timestamp_seconds),
    ("anthropic-ratelimit-output-tokens-reset", "anthropic-ratelimit-output-tokens-remaining", timestamp_seconds),
)


def rate_limit_reset_seconds(headers: Any, now: float | None = None) -> float | None:
    """Seconds until a 429's limits reset, within [0, MAX_RETRY_AFTER_SECONDS], or None when no reset parses.

    The limits whose remaining count is 0 are the ones that refused the call: the latest of their resets is when it
    may pass. When no remaining count says which limit is exhausted, the latest reset of all: an earlier one may be
    of a limit that still had room.
    """
    now = time.time() if now is None else now
    resets: list[tuple[float, bool]] = []  # (seconds, exhausted)
    for reset_header, remaining_header, parse in RATE_LIMITS:
        value = headers.get(reset_header)
        if not isinstance(value, str) or not value or len(value) > MAX_HEADER_CHARS:
            continue
        seconds = parse(value, now)
        if seconds is not None:
            resets.append((seconds, _is_zero(headers.get(remaining_header))))
    exhausted = [seconds for seconds, gone in resets if gone]
    candidates = exhausted or [seconds for seconds, _ in resets]
    return _bounded(max(candidates)) if candidates else None


def _is_zero(value: Any) -> bool:
    """Whether a remaining-count header says nothing is left."""
    if not isinstance(value, str) or len(value) > MAX_HEADER_CHARS:
        return False
    try:
        return float(value) == 0
    except ValueError:
        return False


def _finite_seconds(value: str, scale: float = 1) -> float | None:
    """A header's number divided by scale and bounded, or None when it is not a finite number."""
    try:
        number = float(value) / scale
    except ValueError:
        return None
    return _bounded(number) if math.isfinite(number) else None


def _bounded(seconds: float) -> float:
    """Seconds within [0, MAX_RETRY_AFTER_SECONDS]."""
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_SECONDS)
