"""Structured JSON logs with the request id on every line; nothing secret and no document text is logged."""

from __future__ import annotations

import logging
import re
import sys
import time
import uuid
from urllib.parse import urlsplit, urlunsplit

from flask import Flask, Response, g, has_request_context, request

from backend.config import CONFIG_WARNINGS
from backend.log_format import JsonFormatter, PlainFormatter
from backend.skills.spec import SKILL_ID

REQUEST_ID_HEADER = "X-Request-ID"
# A caller may supply its own request id for correlation, but only a short, plain one (no log injection).
_CLIENT_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")  # fullmatch: "$" would let a trailing newline in
# The URL variables a client chooses, as the access line shows them: a value that does not look like what it names is
# shown as the variable's name (`/api/skills/<skill_id>/invoke`), since a client may paste anything into a URL.
PLAUSIBLE_URL_VALUES = {
    "skill_id": SKILL_ID,
    "job_id": re.compile(r"[0-9a-f]{32}"),  # backend.models.columns.new_id
    "name": re.compile(r"[a-z0-9][a-z0-9._-]{0,62}"),  # a provider's name (settings_schema.NAME)
}
_FILE_NAME = r"[A-Za-z0-9._-]{1,64}"
_PLAIN_PATH = re.compile(rf"{_FILE_NAME}(?:/{_FILE_NAME}){{0,7}}")  # any other variable: the add-in's file paths
# A segment of a path that no route matched, shown only in lower case like every route of ours (keys are mixed-case).
_PLAIN_SEGMENT = re.compile(r"[a-z0-9._-]{1,64}")
_RULE_VARIABLE = re.compile(r"<(?:[^<>:]+:)?([^<>]+)>")  # "<skill_id>", "<path:filename>"

log = logging.getLogger("switchboard.access")
# Libraries whose DEBUG lines carry what must never be logged: the model SDKs log each request's options (the prompt,
# so document text), MSAL its token traffic, and urllib3 each request's URL with its query (Graph's pre-authenticated
# download URL carries a `tempauth` credential there), httpcore (and httpcore2, of the OpenAI SDK's httpx fork httpx2)
# each response's headers. They never log below INFO, whatever LOG_LEVEL says.
PAYLOAD_LOGGERS = (
    "openai",
    "anthropic",
    "semantic_kernel",
    "msal",
    "httpx",
    "httpcore",
    "httpx2",
    "httpcore2",
    "urllib3",
)


# Libraries that log each request's URL at INFO ("HTTP Request: POST <url> ..."): a provider's base URL may carry a
# password (https://user:password@host/v1) or a key in its query. Their lines keep the scheme, host, port and path.
URL_LOGGERS = ("httpx", "httpx2")


class UrlCredentialsFilter(logging.Filter):
    """Rewrites the URLs among a record's arguments without their user info and query."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(without_credentials(arg) for arg in record.args)
        return True


def without_credentials(value: object) -> object:
    """An http(s) URL (text or a URL object) as scheme://host[:port]/path; anything else as it is."""
    text = str(value) if hasattr(value, "scheme") and hasattr(value, "host") else value
    if not isinstance(text, str) or not text.startswith(("http://", "https://")) or not ("@" in text or "?" in text):
        return value  # no user info and no query to drop (the usual line): not parsed
    parts = urlsplit(text)
    if not parts.username and not parts.password and not parts.query:
        return value
    netloc = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


class RequestIdFilter(logging.Filter):
    """Adds the current request id (or the job/task id set by a worker) to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = g.get("request_id") if has_request_context() else None
        return True


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
    quieter = logging.INFO if root.getEffectiveLevel() < logging.INFO else logging.NOTSET  # NOTSET: as the root
    for name in PAYLOAD_LOGGERS:
        logging.getLogger(name).setLevel(quieter)
    for name in URL_LOGGERS:
        url_logger = logging.getLogger(name)
        if not any(isinstance(f, UrlCredentialsFilter) for f in url_logger.filters):
            url_logger.addFilter(UrlCredentialsFilter())


def init_app(app: Flask) -> None:
    """Give each request an id (echoed in X-Request-ID) and log one access line per request; warn about settings
    the environment seems to misspell, or a secret key too short to trust."""
    configure_logging(app.config["LOG_LEVEL"], bool(app.config["LOG_JSON"]))
    for warning in app.extensions.get(CONFIG_WARNINGS, ()):  # found by load_config in the environment
        logging.getLogger("backend.config").warning(warning)

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
            extra={"method": request.method, "path": access_path(), "status": response.status_code, "ms": elapsed_ms},
        )
        return response


def access_path() -> str:
    """The request's path as the access line shows it: each URL variable only when it looks like what it names, and
    of a path that no route matched, only the segments that look like names."""
    if request.url_rule is None:
        segments = request.path.split("/")
        return "/".join(s if not s or _PLAIN_SEGMENT.fullmatch(s) else "<withheld>" for s in segments)
    values = request.view_args or {}

    def shown(variable: re.Match) -> str:
        name = variable.group(1)
        value = str(values.get(name, ""))
        return value if PLAUSIBLE_URL_VALUES.get(name, _PLAIN_PATH).fullmatch(value) else f"<{name}>"

    return _RULE_VARIABLE.sub(shown, request.url_rule.rule)
