"""Checking a skill's input before any model is called: its JSON Schema (422) and its size limit (413)."""

from __future__ import annotations

import json
from typing import Any

from backend.errors import ApiError
from backend.skills import ranges
from backend.skills.spec import SkillSpec, schema_validator

MAX_FIELDS_IN_MESSAGE = 3


class InvalidInput(ApiError):
    """The input fails the skill's schema; details list each failing field, and the message names the first ones
    (the task pane shows the message alone)."""

    def __init__(self, skill_id: str, fields: list[dict[str, str]]):
        named = [f"{_field_name(f['field'])} {f['message']}" for f in fields[:MAX_FIELDS_IN_MESSAGE]]
        more = f" (and {len(fields) - len(named)} more)" if len(fields) > len(named) else ""
        problems = f": {'; '.join(named)}{more}." if named else "."
        message = f"The input does not match the schema of skill '{skill_id}'{problems}"
        super().__init__(422, "invalid_input", message, details={"fields": fields})


def _field_name(field: str) -> str:
    """A field path as the message names it: the root is "the input"."""
    return "the input" if field == "(root)" else field


def run_as_job_advice(job_skill: str) -> str:
    """The sentence that sends a caller to the long-running skill made for inputs this large (`details.job_skill`)."""
    return f" Run the long-running skill '{job_skill}' instead, as a job: POST /api/jobs."


class InputTooLarge(ApiError):
    """The document content is over the skill's limit for a direct call. The message says what to do instead: the
    long-running skill for such documents where there is one, else a shorter selection (or a new conversation)."""

    def __init__(
        self, skill_id: str, size: int, limit: int, *, job_skill: str | None = None, conversation: bool = False
    ):
        message = (
            f"The input is too large for a direct call of skill '{skill_id}' ({size:,} characters, limit {limit:,})."
        )
        details: dict[str, Any] = {"size": size, "limit": limit}
        if job_skill:
            message += run_as_job_advice(job_skill)
            details["job_skill"] = job_skill
        elif conversation:
            message += " Select a shorter passage, or start a new conversation."
        else:
            message += " Select a shorter passage and run the skill on each part in turn."
        super().__init__(413, "input_too_large", message, details=details)


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
    "minLength": "is shorter than {} characters",  # minLength 1: "must not be empty", see _describe
    "maxLength": "is longer than {} characters",
    "minItems": "has fewer than {} items",
    "maxItems": "has more than {} items",
    "pattern": "does not match the pattern {}",
    "format": "is not a valid {}",
}
# Patterns with a meaning a person understands better than the regular expression.
PATTERN_MESSAGES = {"\\S": "must not be empty or only white space"}


def _describe(error) -> str:
    """A message naming the rule broken, without echoing document text (jsonschema's messages quote values)."""
    rule, expected = error.validator, error.validator_value
    if rule == "type":
        return f"must be of type {expected}"
    if rule == "enum":
        return "must be one of " + ", ".join(json.dumps(v) for v in expected)
    if rule == "minLength" and expected == 1:
        return "must not be empty"
    if rule == "pattern" and expected in PATTERN_MESSAGES:
        return PATTERN_MESSAGES[expected]
    if rule in BOUND_MESSAGES:
        return BOUND_MESSAGES[rule].format(expected)
    if rule == "anyOf" and all(set(option) == {"required"} for option in expected):
        return "needs one of the fields: " + ", ".join(name for option in expected for name in option["required"])
    if rule == "additionalProperties":
        return "has properties that are not allowed"
    return f"violates '{rule}'"


def document_size(spec: SkillSpec, data: dict[str, Any]) -> int:
    """Characters of document content in the input, as the model will read it: the spotlighted fields (a text
    sent twice, the selection being the whole document, counts once), objects as compact JSON (an Excel range
    without the constants Office.js repeats in `formulas` and without its `number_formats` and `date_system`, dates
    as the ISO text the model reads, plus its real formulas), and earlier conversation turns."""
    size, seen = 0, set()
    for name in (n for n in spec.spotlight if n != spec.history_input):  # the turns are counted below
        value = data.get(name)
        if isinstance(value, str):
            size += 0 if value in seen else len(value)
            seen.add(value)
        elif ranges.is_range(value):
            size += _compact_length(ranges.as_shown(value))
            size += sum(len(formula) for _, formula in ranges.formula_cells(value))
        elif value is not None:
            size += _compact_length(value)
    if spec.history_input:
        turns = data.get(spec.history_input) or ()
        size += sum(len(t["content"]) for t in turns if isinstance(t, dict) and isinstance(t.get("content"), str))
    return size


def _compact_length(value: Any) -> int:
    """Characters of a value as compact JSON."""
    return len(json.dumps(value, separators=(",", ":"), default=str))


def check_input(spec: SkillSpec, data: Any) -> None:
    """Raise InvalidInput (422) or InputTooLarge (413), or return when the input may go to a model."""
    errors = input_errors(spec.input_schema, data) or ranges.range_problems(data)
    if errors:
        raise InvalidInput(spec.id, errors)
    size = document_size(spec, data)
    if size > spec.max_input_chars:
        conversation = bool(spec.history_input and data.get(spec.history_input))
        job = spec.large_input_job
        raise InputTooLarge(spec.id, size, spec.max_input_chars, job_skill=job, conversation=conversation)
