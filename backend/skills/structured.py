"""Structured model output: find the JSON in an answer, validate it against a schema, ask for one repair."""

from __future__ import annotations

import json
import re
from typing import Any

from backend.errors import ApiError
from backend.providers.base import ChatMessage, ChatRequest
from backend.skills.inputs import input_errors, run_as_job_advice
from backend.skills.spec import schema_validator

_FENCE = re.compile(r"```(?:json)?\s*\n(?P<body>.*?)\n?```", re.S | re.I)
MAX_PROBLEMS = 5


class OutputInvalid(ValueError):
    """The model's answer does not have the required shape; the message says what is wrong (for the repair)."""

    def __init__(self, message: str, public: str | None = None) -> None:
        """`message` goes to the model in the repair turn; `public`, to the caller if the repair fails too, must not
        quote the answer (it is made from the document); a message that quotes nothing serves as both."""
        super().__init__(message)
        self.public = message if public is None else public


class ModelOutputError(ApiError):
    """The model's answer stayed invalid after the repair attempt."""

    def __init__(self, skill_id: str, problem: str):
        message = f"The model's answer for skill '{skill_id}' was not valid, even after a repair attempt."
        super().__init__(502, "invalid_model_output", message, details={"problem": problem[:500]})


class OutputTruncated(ApiError):
    """A structured answer reached the call's output limit before it was complete: a repair call would be cut off the
    same way, so none is made; what helps is a smaller input (or the skill's long-running job)."""

    def __init__(self, skill_id: str, max_output_tokens: int, job_skill: str | None = None):
        message = (
            f"The model's answer for skill '{skill_id}' reached its length limit ({max_output_tokens:,} tokens) "
            "before it was complete."
        )
        details: dict[str, Any] = {"max_output_tokens": max_output_tokens}
        if job_skill:
            message += run_as_job_advice(job_skill)
            details["job_skill"] = job_skill
        else:
            message += " Select a shorter passage and try again."
        super().__init__(502, "output_truncated", message, details=details)


def extract_json(text: str) -> Any:
    """The JSON value in a model answer: the whole text, a fenced block, or the outermost {...} or [...]."""
    candidates = [text.strip()]
    fenced = _FENCE.search(text)
    if fenced:
        candidates.append(fenced.group("body").strip())
    for opener, closer in (("{", "}"), ("[", "]")):
        start, end = text.find(opener), text.rfind(closer)
        if 0 <= start < end:
            candidates.append(text[start : end + 1])
    for candidate in candidates:
        try:
            return json.loads(candidate)
        except ValueError:
            continue
    raise OutputInvalid("the answer is not valid JSON")


def schema_problems(value: Any, schema: dict[str, Any]) -> list[str]:
    """Readable schema violations, each naming the JSON path, at most MAX_PROBLEMS of them (jsonschema's messages
    quote the offending values: for the model's repair turn only)."""
    validator = schema_validator(schema)
    problems = []
    for error in sorted(validator.iter_errors(value), key=lambda e: list(e.absolute_path)):
        path = "/".join(str(p) for p in error.absolute_path) or "(root)"
        problems.append(f"{path}: {error.message[:200]}")
    return problems[:MAX_PROBLEMS]


def parse_structured(text: str, schema: dict[str, Any]) -> Any:
    """The answer's JSON value if it matches the schema, else OutputInvalid listing the problems."""
    value = extract_json(text)
    problems = schema_problems(value, schema)
    if problems:
        unquoted = [f"{e['field']}: {e['message']}" for e in input_errors(schema, value)[:MAX_PROBLEMS]]
        prefix = "the JSON does not match the schema: "
        raise OutputInvalid(prefix + "; ".join(problems), public=prefix + "; ".join(unquoted))
    return value


def repair_request(request: ChatRequest, answer: str, problem: str, schema: dict[str, Any] | None) -> ChatRequest:
    """The original conversation plus the invalid answer and a user turn saying what to fix."""
    wanted = "only a JSON value matching this JSON Schema:\n" + json.dumps(schema) if schema else "a corrected answer"
    repair = ChatMessage(
        role="user",
        content=f"Your previous answer was not valid: {problem}\nReply again with {wanted}\nNo other text.",
    )
    return ChatRequest(
        messages=[*request.messages, ChatMessage(role="assistant", content=answer), repair],
        max_output_tokens=request.max_output_tokens,
        temperature=request.temperature,
        json_schema=request.json_schema,
    )
