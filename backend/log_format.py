"""Log line formats: JSON lines, or plain text, both without exception messages (they may quote secrets).

Kept free of Flask so gunicorn's master can format its own lines with it before a gevent worker patches ssl.
"""

from __future__ import annotations

import json
import logging
import traceback
from datetime import UTC, datetime


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
