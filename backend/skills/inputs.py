"""Checking a skill's input before any model is called: its JSON Schema (422) and its size limit (413)."""

from __future__ import annotations

import json
from typing import Any

from backend.errors import ApiError
from backend.skills.spec import SkillSpec, schema_validator


class InvalidInput(ApiError):
    """The input fails the skill's schema; details list each failing field."""

    def __init__(self, skill_id: str, fields: list[dict[str, str]]):
        message = f"The input does not match the schema of skill '{skill_id}'."
        super().__init__(422, "invalid_input", message, details={"fields": fields})


class InputTooLarge(ApiError):
    """The document content is over the skill's limit for a direct call."""

    def __init__(self, skill_id: str, size: int, limit: int):
        message = (
            f"The input is too large for a direct call of skill '{skill_id}' ({size} characters, limit {limit}). "
            "Run it as a job instead: POST /api/jobs."
        )
        super().__init__(413, "input_too_large", message, details={"size": size, "limit": limit})


def input_errors(schema: dict[str, Any], data: Any) -> list[dict[str, str]]:
    """Every schema violation as {"field": "a/b/0", "message": ...}; messages never quote the input's values."""
    validator = schema_validator(schema)
    if validator.is_valid(data):  # the usual case, without collecting errors
        return []
    errors = []
    for error in sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path)):
        field = "/".join(str(part) for part in error.absolute_path) or "(root)"
        if error.validator == "required":
            instance = error.instance if isinstance(error.instance, dict) else {}
            for name in (n for n in error.validator_value if n not in instance):
                errors.append({"field": f"{field}/{name}".removeprefix("(root)/"), "message": "is required"})
            continue
        errors.append({"field": field, "message": _describe(error)})
    unique = []
    for error in errors:  # jsonschema reports each missing property once per missing property: keep one
        if error not in unique:
            unique.append(error)
    return unique


# What a broken bound says: the schema's limit, never the value that broke it.
BOUND_MESSAGES = {
    "minimum": "is less than the minimum of {}",
    "maximum": "is greater than the maximum of {}",
    "exclusiveMinimum": "must be greater than {}",
    "exclusiveMaximum": "must be less than {}",
    "minLength": "is shorter than {} characters",
    "maxLength": "is longer than {} characters",
    "minItems": "has fewer than {} items",
    "maxItems": "has more than {} items",
    "pattern": "does not match the pattern {}",
    "format": "is not a valid {}",
}


def _describe(error) -> str:
    """A message naming the rule broken, without echoing document text (jsonschema's messages quote values)."""
    rule, expected = error.validator, error.validator_value
    if rule == "type":
        return f"must be of type {expected}"
    if rule == "enum":
        return "must be one of " + ", ".join(json.dumps(v) for v in expected)
    if rule in BOUND_MESSAGES:
        return BOUND_MESSAGES[rule].format(expected)
    if rule == "anyOf" and all(set(option) == {"required"} for option in expected):
        return "needs one of the fields: " + ", ".join(name for option in expected for name in option["required"])
    if rule == "additionalProperties":
        return "has properties that are not allowed"
    return f"violates '{rule}'"


def document_size(spec: SkillSpec, data: dict[str, Any]) -> int:
    """Characters of document content in the input: the spotlighted fields, objects counted as compact JSON."""
    size = 0
    for name in spec.spotlight:
        value = data.get(name)
        if isinstance(value, str):
            size += len(value)
        elif value is not None:
            size += len(json.dumps(value, separators=(",", ":"), default=str))
    return size


def check_input(spec: SkillSpec, data: Any) -> None:
    """Raise InvalidInput (422) or InputTooLarge (413), or return when the input may go to a model."""
    errors = input_errors(spec.input_schema, data)
    if errors:
        raise InvalidInput(spec.id, errors)
    size = document_size(spec, data)
    if size > spec.max_input_chars:
        raise InputTooLarge(spec.id, size, spec.max_input_chars)
