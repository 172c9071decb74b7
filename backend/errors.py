"""One place that turns every failure into the contract's error shape: {"error": {"code", "message"}}."""

from __future__ import annotations

import logging

from flask import Flask, Response, g, jsonify, request
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

# An over-limit body up to this size is read and dropped before answering 413: gunicorn would otherwise close the
# connection while the client is still sending, and the client would see a broken pipe instead of the error.
DRAIN_LIMIT_BYTES = 64 * 1024 * 1024

# Werkzeug's HTTP errors, named in the contract's snake_case codes with a message fit for a person.
HTTP_ERROR_CODES: dict[int, tuple[str, str]] = {
    400: ("bad_request", "The request is malformed."),
    401: ("unauthorized", "A valid access token is required."),
    403: ("forbidden", "You are not allowed to do this."),
    404: ("not_found", "No such resource."),
    405: ("method_not_allowed", "This method is not allowed on this resource."),
    409: ("conflict", "The request conflicts with the current state."),
    413: ("payload_too_large", "The request body is larger than this server accepts."),
    415: ("unsupported_media_type", "Send the body as JSON with Content-Type: application/json."),
    422: ("unprocessable_entity", "The input is not valid."),
    429: ("rate_limited", "Too many requests; try again later."),
    500: ("internal_error", "Something went wrong on our side."),
    502: ("bad_gateway", "An upstream service failed."),
    503: ("service_unavailable", "The service is unavailable; try again later."),
    504: ("gateway_timeout", "An upstream service timed out."),
}


RETRY_SOON = {"Retry-After": "5"}


def dependency_errors() -> tuple[type[Exception], ...]:
    """The exceptions that mean the database or Redis did not answer (a connection refused, lost or timed out)."""
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError
    from sqlalchemy.exc import OperationalError

    return OperationalError, RedisConnectionError, RedisTimeoutError


class ApiError(Exception):
    """An error the API answers with deliberately: status, machine code, human message, optional details."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: object | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = headers or {}

    def to_dict(self) -> dict:
        """The error body of the contract."""
        body: dict = {"code": self.code, "message": self.message}
        if self.details is not None:
            body["details"] = self.details
        return {"error": body}


def error_response(error: ApiError) -> Response:
    """Render an ApiError as a JSON response with its status and headers."""
    response = jsonify(error.to_dict())
    response.status_code = error.status
    for name, value in error.headers.items():
        response.headers[name] = value
    return response


def _from_http_exception(exc: HTTPException) -> ApiError:
    status = exc.code or 500
    code, message = HTTP_ERROR_CODES.get(status, ("http_error", exc.name))
    headers = {}
    if status == 405 and getattr(exc, "valid_methods", None):
        headers["Allow"] = ", ".join(sorted(exc.valid_methods))
    return ApiError(status, code, message, headers=headers)


def drain_request_body() -> None:
    """Read the rest of a declared-length body (bounded by DRAIN_LIMIT_BYTES) so the answer reaches the client."""
    remaining = request.content_length or 0
    if remaining > DRAIN_LIMIT_BYTES:
        return
    stream = request.environ.get("wsgi.input")
    while stream is not None and remaining > 0:
        chunk = stream.read(min(remaining, 64 * 1024))
        if not chunk:
            return
        remaining -= len(chunk)


def refuse_nul_in_url() -> None:
    """400 for a NUL character in the path or query: PostgreSQL cannot hold one in text, and no id contains one."""
    if "\x00" in request.path or any("\x00" in part for item in request.args.items(multi=True) for part in item):
        raise ApiError(400, "bad_request", "The URL contains a NUL character.")


def init_app(app: Flask) -> None:
    """Register the handlers: deliberate errors, HTTP errors, and anything unexpected (500, trace only in logs)."""
    app.before_request(refuse_nul_in_url)

    @app.errorhandler(ApiError)
    def handle_api_error(exc: ApiError) -> Response:
        return error_response(exc)

    @app.errorhandler(HTTPException)
    def handle_http_exception(exc: HTTPException) -> Response:
        if exc.code == 413:
            drain_request_body()
        return error_response(_from_http_exception(exc))

    def handle_dependency_down(exc: Exception) -> Response:
        # The database or Redis (rate limits, circuits) not answering is no bug of ours: a 503 the caller may retry,
        # not a 500. The trace goes to the log, without the driver's message (it may quote parameters).
        log.warning("a dependency is unavailable: %s", type(exc).__name__, exc_info=True)
        message = "A service Switchboard depends on (its database or Redis) is not answering; try again shortly."
        return error_response(ApiError(503, "dependency_unavailable", message, headers=RETRY_SOON))

    for kind in dependency_errors():
        app.register_error_handler(kind, handle_dependency_down)

    @app.errorhandler(Exception)
    def handle_unexpected(exc: Exception) -> Response:
        log.exception("unhandled exception")
        request_id = g.get("request_id")
        message = "Something went wrong on our side. Quote the request id when reporting it."
        return error_response(ApiError(500, "internal_error", message, details={"request_id": request_id}))
