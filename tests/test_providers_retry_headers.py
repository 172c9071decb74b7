"""How long a provider's error answer asks us to wait: Retry-After, retry-after-ms, and a 429's rate-limit resets
(OpenAI and Azure durations, Anthropic RFC 3339 timestamps), always bounded, never an exception."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from backend.providers.errors import map_exception
from backend.providers.retry_headers import (
    MAX_RETRY_AFTER_SECONDS,
    duration_seconds,
    rate_limit_reset_seconds,
    retry_after_seconds,
    timestamp_seconds,
    wait_seconds,
)

NOW = 1_800_000_000.0


def at(seconds: float) -> str:
    """An RFC 3339 timestamp `seconds` after NOW, as Anthropic writes them."""
    return datetime.fromtimestamp(NOW + seconds, UTC).isoformat().replace("+00:00", "Z")


def test_retry_after_accepts_seconds_dates_and_milliseconds():
    assert retry_after_seconds({"retry-after": "30"}) == 30.0
    assert retry_after_seconds({"retry-after-ms": "1500", "retry-after": "9"}) == 1.5
    in_a_minute = format_datetime(datetime.now(UTC) + timedelta(seconds=60), usegmt=True)
    assert 55 <= retry_after_seconds({"retry-after": in_a_minute}) <= 61
    assert retry_after_seconds({"retry-after": "soon"}) is None
    assert retry_after_seconds({}) is None


def test_retry_after_is_a_finite_number_of_seconds_within_bounds():
    for not_a_number in ("nan", "inf", "-inf", "1e400"):
        assert retry_after_seconds({"retry-after": not_a_number}) is None
        assert retry_after_seconds({"retry-after-ms": not_a_number}) is None
    assert retry_after_seconds({"retry-after": "1e12"}) == MAX_RETRY_AFTER_SECONDS
    assert retry_after_seconds({"retry-after-ms": "nan", "retry-after": "4"}) == 4.0
    next_year = format_datetime(datetime.now(UTC) + timedelta(days=365), usegmt=True)
    assert retry_after_seconds({"retry-after": next_year}) == MAX_RETRY_AFTER_SECONDS
    assert retry_after_seconds({"retry-after": "-5"}) == 0.0


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("1s", 1.0), ("6m0s", 360.0), ("20ms", 0.02), ("1h2m3.5s", 3723.5), ("0", 0.0), ("0s", 0.0)]
    + [("1.5s", 1.5), ("250us", 0.00025), ("7m12s", 432.0), (".5s", 0.5), (" 2s ", 2.0)],
)
def test_go_durations_as_openai_and_azure_write_resets(value, seconds):
    assert duration_seconds(value, NOW) == pytest.approx(seconds)


@pytest.mark.parametrize(
    "value", ["", "1", "10", "s", "1x", "-1s", "1s2", "1e3s", "1 s", "abc", "1h 2m", "9" * 400 + "h"]
)
def test_anything_else_is_not_a_duration(value):
    assert duration_seconds(value, NOW) is None


def test_rfc_3339_timestamps_as_anthropic_writes_resets():
    assert timestamp_seconds(at(42), NOW) == pytest.approx(42)
    assert timestamp_seconds("2027-01-15T08:00:00.5+01:00", NOW) == pytest.approx(
        datetime(2027, 1, 15, 7, 0, 0, 500_000, UTC).timestamp() - NOW
    )
    assert timestamp_seconds(at(-10), NOW) == pytest.approx(-10)  # bounded by the caller


@pytest.mark.parametrize("value", ["", "soon", "2027-01-15T08:00:00", "2027-01-15", "99999-01-01T00:00:00Z", "1s"])
def test_a_timestamp_without_an_offset_or_that_does_not_parse_is_ignored(value):
    assert timestamp_seconds(value, NOW) is None


def test_without_remaining_counts_the_latest_reset_is_taken():
    headers = {"x-ratelimit-reset-requests": "1s", "x-ratelimit-reset-tokens": "6m0s"}
    assert rate_limit_reset_seconds(headers, NOW) == 360.0


def test_the_exhausted_limits_reset_is_taken_when_the_remaining_counts_say_which():
    requests_gone = {
        "x-ratelimit-reset-requests": "20ms",
        "x-ratelimit-remaining-requests": "0",
        "x-ratelimit-reset-tokens": "6m0s",
        "x-ratelimit-remaining-tokens": "149984",
    }
    assert rate_limit_reset_seconds(requests_gone, NOW) == pytest.approx(0.02)
    both_gone = requests_gone | {"x-ratelimit-remaining-tokens": "0"}
    assert rate_limit_reset_seconds(both_gone, NOW) == 360.0


def test_anthropic_resets_and_their_remaining_counts():
    headers = {
        "anthropic-ratelimit-requests-reset": at(5),
        "anthropic-ratelimit-requests-remaining": "49",
        "anthropic-ratelimit-input-tokens-reset": at(30),
        "anthropic-ratelimit-input-tokens-remaining": "0",
        "anthropic-ratelimit-output-tokens-reset": at(50),
        "anthropic-ratelimit-output-tokens-remaining": "7000",
        "anthropic-ratelimit-tokens-reset": at(50),
    }
    assert rate_limit_reset_seconds(headers, NOW) == pytest.approx(30)
    del headers["anthropic-ratelimit-input-tokens-remaining"]
    assert rate_limit_reset_seconds(headers, NOW) == pytest.approx(50)


def test_resets_are_bounded_and_garbage_is_ignored():
    assert rate_limit_reset_seconds({"x-ratelimit-reset-tokens": "1000h"}, NOW) == MAX_RETRY_AFTER_SECONDS
    assert rate_limit_reset_seconds({"anthropic-ratelimit-tokens-reset": at(-30)}, NOW) == 0.0
    garbage = {
        "x-ratelimit-reset-requests": "soon",
        "x-ratelimit-remaining-requests": "0",
        "x-ratelimit-reset-tokens": "1s" * 100,
        "anthropic-ratelimit-requests-reset": "tomorrow",
        "anthropic-ratelimit-tokens-reset": "2027-13-45T99:00:00Z",
    }
    assert rate_limit_reset_seconds(garbage, NOW) is None
    assert rate_limit_reset_seconds({}, NOW) is None
    # a garbage reset of the exhausted limit leaves the others' latest reset
    odd = {"x-ratelimit-reset-requests": "??", "x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-tokens": "2s"}
    assert rate_limit_reset_seconds(odd, NOW) == 2.0
    assert rate_limit_reset_seconds({"x-ratelimit-reset-tokens": "2s", "x-ratelimit-remaining-tokens": "nan"}) == 2.0


def test_retry_after_wins_and_resets_are_read_only_for_a_429():
    resets = {"x-ratelimit-reset-requests": "6m0s"}
    assert wait_seconds(resets | {"retry-after": "7"}, 429) == 7.0
    assert wait_seconds(resets | {"retry-after-ms": "1500"}, 429) == 1.5
    assert wait_seconds(resets | {"retry-after": "garbage"}, 429) == 360.0
    assert wait_seconds(resets, 429) == 360.0
    assert wait_seconds(resets, 503) is None and wait_seconds(resets | {"retry-after": "3"}, 503) == 3.0
    assert wait_seconds(None, 429) is None


def test_a_429_status_error_carries_the_reset_as_its_retry_after():
    class RateLimitError(Exception):
        """Shaped like the SDKs' status errors: a status code, a body and the response."""

        status_code = 429
        body = None

        class response:  # noqa: N801 - stands in for an httpx response
            headers = {"x-ratelimit-reset-tokens": "1m30s", "x-ratelimit-remaining-tokens": "0"}

    error = map_exception(RateLimitError(), "p/m")
    assert (error.kind, error.status, error.retry_after) == ("rate_limited", 429, 90.0)


def test_an_in_stream_429_does_not_read_the_resets_of_the_200_that_began_the_stream():
    class APIStatusError(Exception):
        """Shaped like the Anthropic SDK's error for an `event: error` inside a 200 stream."""

        status_code = 200
        body = {"type": "error", "error": {"type": "rate_limit_error", "message": "slow down"}}

        class response:  # noqa: N801 - stands in for an httpx response
            headers = {"anthropic-ratelimit-tokens-reset": "2099-01-01T00:00:00Z", "x-ratelimit-reset-tokens": "6m0s"}

    error = map_exception(APIStatusError(), "p/m")
    assert (error.kind, error.status, error.retry_after) == ("rate_limited", 429, None)
