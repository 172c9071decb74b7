"""SDK and transport exceptions mapped to ProviderError kinds. Messages name the provider and model, never the key,
the prompt or the answer: the SDK's own message (which may quote the provider's error body) is left out on purpose.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from backend.providers.base import ProviderError
from backend.providers.retry_headers import wait_seconds

# Error types of errors sent inside a 200 stream (Anthropic's SSE `error` event, e.g. overloaded mid-stream; an
# OpenAI-style chunk carrying an `error` object), as the status the same error has as an HTTP answer
STREAM_ERROR_STATUS = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "permission_error": 403,
    "not_found_error": 404,
    "rate_limit_error": 429,
    "rate_limit_exceeded": 429,
    "api_error": 500,
    "server_error": 500,
    "overloaded_error": 529,
}
AUTH_MESSAGE = "the provider rejected the credentials (HTTP {status}): a configuration problem, check its API key"
# Azure OpenAI's error code for a prompt its content filter blocked (HTTP 400), and in a stream's error object
CONTENT_FILTER_CODE = "content_filter"
# What a web server, a sign-in portal or a misrouted proxy answers, and no model API ever does, in place of its JSON
# or its event stream
WEB_PAGE_TYPES = frozenset({"text/html", "application/xhtml+xml"})
WEB_PAGE_MESSAGE = (
    "the provider answered with a non-JSON body ({media_type}) instead of its API: a configuration problem, check its "
    "base URL and any proxy in between"
)


def map_exception(exc: BaseException, where: str, before_first_token: bool = False) -> ProviderError:
    """The ProviderError for an exception raised by a connector, its SDK or httpx while calling `where`."""
    chain = list(exception_chain(exc))
    for cause in chain:
        if isinstance(cause, ProviderError):  # raised by our own connector code inside SK (sk_services)
            return ProviderError(cause.kind, f"{where}: {cause}", cause.status, cause.retry_after, cause.usage)
        status = getattr(cause, "status_code", None)
        body = getattr(cause, "body", None)
        if isinstance(status, int) and hasattr(cause, "response"):
            if 300 <= status < 400:  # redirects are not followed (SKChatProvider.http_client): a configuration problem
                return ProviderError("client", f"{where}: redirected (HTTP {status}), not followed", status)
            # Read by the answer's own status: a 200 stream's rate-limit resets were written before its error, when
            # the limits still had room, so an in-stream 429 is no reason to read them.
            wait = wait_seconds(cause.response.headers, status)
            if status < 400:  # an error event inside a 200 stream: its status is in the body's error type
                status = stream_error_status(body)
            if error_field(body, "code") == CONTENT_FILTER_CODE:
                return content_filter_error(where, status)
            return status_error(status, where, wait)
        if type(cause).__name__ == "APIError" and hasattr(cause, "body"):  # OpenAI SDK: an `error` chunk in a stream
            if error_field(body, "code") == CONTENT_FILTER_CODE:
                return content_filter_error(where, None)
            return status_error(stream_error_status(body), where)
    timeout_kind = "first_token_timeout" if before_first_token else "timeout"
    # Transport errors are matched by class name: the Anthropic SDK uses httpx, the OpenAI SDK its fork httpx2, and
    # both wrap them in their own APIConnectionError / APITimeoutError.
    names = {cls.__name__ for cause in chain for cls in type(cause).__mro__}
    checks = [
        ({"ConnectError", "ConnectTimeout"}, "connect", "cannot connect"),
        ({"TimeoutException", "TimeoutError", "APITimeoutError"}, timeout_kind, "timed out"),
        ({"RemoteProtocolError", "ReadError"}, "server", "connection dropped mid-response"),
        ({"JSONDecodeError", "ValidationError"}, "protocol", "malformed response"),
        ({"APIConnectionError"}, "connect", "cannot connect"),
    ]
    for markers, kind, text in checks:
        if names & markers:
            return ProviderError(kind, f"{where}: {text}")
    return ProviderError("server", f"{where}: failed ({type(chain[-1]).__name__})")


async def refuse_web_pages(response: Any) -> None:
    """HTTP client response hook: a 2xx web page where the API's JSON or event stream was expected fails at its
    headers, as a retryable `server` failure (like a bad gateway's 502, with the status the page came with) whose
    message says what came and what to check. The SDKs would hand the page's text to SK as the answer (which then
    fails on it as an AttributeError), or read a stream of no events from it. The page itself is never read."""
    if 200 <= response.status_code < 300:
        media_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type in WEB_PAGE_TYPES:
            message = WEB_PAGE_MESSAGE.format(media_type=media_type)
            raise ProviderError("server", message, response.status_code)


def status_error(status: int, where: str, retry_after: float | None = None) -> ProviderError:
    """The ProviderError for an HTTP error status."""
    if status == 429:
        return ProviderError("rate_limited", f"{where}: rate limited (HTTP 429)", status, retry_after)
    if status == 529:
        return ProviderError("overloaded", f"{where}: overloaded (HTTP 529)", status, retry_after)
    if status in (401, 403):
        return ProviderError("auth", f"{where}: " + AUTH_MESSAGE.format(status=status), status)
    if status == 408:
        return ProviderError("timeout", f"{where}: the provider timed out (HTTP 408)", status)
    if status >= 500:
        return ProviderError("server", f"{where}: server error (HTTP {status})", status, retry_after)
    return ProviderError("client", f"{where}: request rejected (HTTP {status})", status)


def content_filter_error(where: str, status: int | None) -> ProviderError:
    """The provider's content filter refused the prompt: not retried, and never resent to another provider."""
    return ProviderError("content_filter", f"{where}: the provider's content filter refused the request", status)


def stream_error_status(body: Any) -> int:
    """The HTTP status matching an in-stream error: its error type or code (OpenAI's 429s say `type: tokens`,
    `code: rate_limit_exceeded`), else an HTTP status given as its code (vLLM, llama.cpp), else 500."""
    kind, code = error_field(body, "type"), error_field(body, "code")
    status = STREAM_ERROR_STATUS.get(kind) or (STREAM_ERROR_STATUS.get(code) if isinstance(code, str) else None)
    if status is None and isinstance(code, int) and 400 <= code < 600:
        status = code
    return status or 500


def error_field(body: Any, name: str) -> Any:
    """A field of a provider error body: `{"error": {...}}` (Anthropic, raw OpenAI) or the error object itself (as
    the OpenAI SDK keeps it)."""
    error = body.get("error", body) if isinstance(body, dict) else None
    return error.get(name) if isinstance(error, dict) else None


def exception_chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception, its causes and contexts, and exceptions SK carries in its args, outermost first."""
    seen: set[int] = set()
    pending = [exc]
    while pending:
        current = pending.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        pending.extend(arg for arg in current.args if isinstance(arg, BaseException))
        pending.extend(link for link in (current.__cause__, current.__context__) if link is not None)
