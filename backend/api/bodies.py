"""Reading request bodies: JSON objects only, with errors in the contract's shape."""

from __future__ import annotations

import json
from typing import Any

from flask import request

from backend.errors import ApiError


def _not_json(constant: str) -> None:
    """Python's parser reads NaN and Infinity, which JSON does not have: every JSON Schema bound lets NaN through,
    and PostgreSQL refuses to store it (a NaN budget stored on SQLite failed each call of its tenant)."""
    raise ValueError(f"{constant} is not JSON")


def json_body() -> dict[str, Any]:
    """The request's JSON object; 415 for another content type, 400 for malformed JSON (NaN and Infinity included)
    or a non-object."""
    if not request.is_json:
        raise ApiError(415, "unsupported_media_type", "Send the body as JSON with Content-Type: application/json.")
    try:
        # A body over the limit raises 413 here (get_data), which passes through.
        body = json.loads(request.get_data(cache=True), parse_constant=_not_json)
    except ValueError:  # undecodable bytes (UnicodeDecodeError is one), malformed JSON, NaN or Infinity
        raise ApiError(400, "malformed_json", "The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise ApiError(400, "bad_request", "The request body must be a JSON object.")
    return body
