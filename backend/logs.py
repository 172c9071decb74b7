"""Structured JSON logs with the request id on every line; nothing secret and no document text is logged."""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import traceback
import uuid
from datetime import UTC, datetime

from flask import Flask, Response, g, has_request_context, request

REQUEST_ID_HEADER = "X-Request-ID"
# A caller may supply its own request id for correlation, but only a short, plain one (no log injection).
_CLIENT_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")  # fullmatch: "$" would let a trailing newline in

log = logging.getLogger("switchboard.access")


class RequestIdFilter(logging.Filter):
    """Adds the current request id (or the job/task id set by a worker) to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = g.get("request_id") if has_request_context() else None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id, extra fields, exception trace."""

    RESERVED = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "request_id"}

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        entry.update({k: v for k, v in vars(record).items() if k not in self.RESERVED and not k.startswith("_")})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)

    def formatException(self, ei) -> str:  # noqa: N802 - logging.Formatter's name
        """The trace without exception messages: they may quote documents, tokens or SQL parameters."""
        return redacted_trace(ei[1]) if ei[1] is not None else ""


class PlainFormatter(logging.Formatter):
    """Human-readable lines for a terminal (LOG_JSON off), with the same withheld exception messages."""

    def formatException(self, ei) -> str:  # noqa: N802 - logging.Formatter's name
        """The trace without exception messages."""
        return redacted_trace(ei[1]) if ei[1] is not None else ""


def redacted_trace(error: BaseException) -> str:
    """Frames and exception types of an error and the errors that led to it, each message withheld."""
    chain: list[BaseException] = []
    while error is not None and error not in chain:
        chain.append(error)
        error = error.__cause__ or (None if error.__suppress_context__ else error.__context__)
    parts = []
    for cause in reversed(chain):
        kind = type(cause)
        name = kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"
        frames = "".join(traceback.format_tb(cause.__traceback__))
        parts.append(f"Traceback (most recent call last):\n{frames}{name}: (message withheld)")
    return "\n\nwhich led to:\n\n".join(parts)


def configure_logging(level: str = "INFO", json_lines: bool = True) -> None:
    """Send the root logger to stderr, as JSON lines by default; idempotent."""
    root = logging.getLogger()
    handler = next((h for h in root.handlers if getattr(h, "_switchboard", False)), None)
    if handler is None:
        handler = logging.StreamHandler(sys.stderr)
        handler._switchboard = True
        handler.addFilter(RequestIdFilter())
        root.addHandler(handler)
    fmt = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
    handler.setFormatter(JsonFormatter() if json_lines else PlainFormatter(fmt))
    root.setLevel(level)


def init_app(app: Flask) -> None:
    """Give each request an id (echoed in X-Request-ID) and log one access line per request."""
    configure_logging(app.config["LOG_LEVEL"], bool(app.config["LOG_JSON"]))

    @app.before_request
    def assign_request_id() -> None:
        supplied = request.headers.get(REQUEST_ID_HEADER, "")
        g.request_id = supplied if _CLIENT_REQUEST_ID.fullmatch(supplied) else uuid.uuid4().hex
        g.request_started = time.perf_counter()

    @app.after_request
    def log_access(response: Response) -> Response:
        request_id = g.get("request_id")
        if request_id:
            response.headers[REQUEST_ID_HEADER] = request_id
        started = g.get("request_started")
        elapsed_ms = round((time.perf_counter() - started) * 1000, 2) if started else None
        # The path only: query strings may carry codes or state (the consent callback) and bodies carry documents.
        log.info(
            "request",
            extra={"method": request.method, "path": request.path, "status": response.status_code, "ms": elapsed_ms},
        )
        return response
