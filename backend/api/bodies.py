"""Reading request bodies: JSON objects only, with errors in the contract's shape."""

from __future__ import annotations

from typing import Any

from flask import request
from werkzeug.exceptions import BadRequest

from backend.errors import ApiError


def json_body() -> dict[str, Any]:
    """The request's JSON object; 415 for another content type, 400 for malformed JSON or a non-object."""
    if not request.is_json:
        raise ApiError(415, "unsupported_media_type", "Send the body as JSON with Content-Type: application/json.")
    try:
        body = request.get_json()
    except BadRequest:  # undecodable JSON; a body over the limit (413) is not a BadRequest and passes through
        raise ApiError(400, "malformed_json", "The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise ApiError(400, "bad_request", "The request body must be a JSON object.")
    return body
