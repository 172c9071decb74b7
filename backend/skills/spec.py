"""What a skill is: the `SkillSpec` read from a folder's skill.yaml, checked field by field with clear errors."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from backend.providers.base import CAPABILITIES

HOSTS = ("word", "excel")
# What a skill id looks like: the built-in ones, those `switchboard skills new` makes, and the skill names a settings
# PATCH accepts in routing pins. The loader takes any folder name, but a URL's skill id is logged only when it looks
# like one (backend/logs.py): a client may put anything there, document text included.
SKILL_ID = re.compile(r"[a-z][a-z0-9_]{0,63}")
OUTPUT_KINDS = ("text", "json", "edits", "table")
RESPONSE_FORMATS = ("text", "json")
SPOTLIGHT_MODES = ("datamark", "base64")
DEFAULT_MAX_INPUT_CHARS = 60_000


class SkillSpecError(ValueError):
    """A skill.yaml (or a file it names) is not valid; the message names the problem."""


@dataclass(frozen=True)
class ModelNeeds:
    """What a model must offer to serve the skill; the router filters candidates with it."""

    min_context: int = 8_000
    capabilities: frozenset[str] = frozenset()
    preferred_tier: int = 2


_VALIDATORS: dict[int, tuple[dict[str, Any], Draft202012Validator]] = {}
MAX_VALIDATORS = 256  # skills are few; a reloaded skill brings new schema objects


def schema_validator(schema: dict[str, Any]) -> Draft202012Validator:
    """The validator of a schema object, made once: every call of a skill checks its input, and a structured skill
    its answer, against the same schema objects (35 -> 20 µs per input check)."""
    cached = _VALIDATORS.get(id(schema))
    if cached is None or cached[0] is not schema:  # the id of a schema that is gone may be reused
        if len(_VALIDATORS) >= MAX_VALIDATORS:
            _VALIDATORS.clear()
        cached = _VALIDATORS[id(schema)] = (schema, Draft202012Validator(schema))
    return cached[1]


@dataclass(frozen=True)
class Example:
    """One realistic input of a skill, named; checked against the input schema when the skill loads."""

    name: str
    input: dict[str, Any]


@dataclass(frozen=True)
class SkillSpec:
    """One skill as declared in its skill.yaml; prompts hold the parsed Semantic Kernel prompt configs."""

    id: str
    name: str
    description: str
    hosts: tuple[str, ...]
    input_schema: dict[str, Any]
    output: str
    folder: Path
    response_format: str = "text"
    response_schema: dict[str, Any] | None = None
    streaming: bool = False
    long_running: bool = False
    max_input_chars: int = DEFAULT_MAX_INPUT_CHARS
    large_input_job: str | None = None  # the long-running skill to suggest when the input is over max_input_chars
    max_output_tokens: int = 1024
    temperature: float | None = None
    model: ModelNeeds = ModelNeeds()
    spotlight: tuple[str, ...] = ()  # variables holding document content: spotlighted, user role only
    spotlight_mode: str = "datamark"
    history_input: str | None = None  # an input field carrying earlier turns of a conversation
    rewrite_style: bool = False  # the answer replaces document text: strip chatty preambles
    verbatim_fields: tuple[str, ...] = ()  # JSON keys kept exactly as the model wrote them (not sanitised)
    prompt_files: dict[str, str] = field(default_factory=dict)
    plugin: str | None = None  # "file.py:ClassName", imported lazily on first use
    examples: tuple[Example, ...] = ()  # realistic inputs, run by `switchboard skills test --provider`

    def public(self) -> dict[str, Any]:
        """The skill as `GET /api/skills` lists it."""
        return {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "hosts": list(self.hosts),
            "input_schema": self.input_schema,
            "output": self.output,
            "streaming": self.streaming,
            "long_running": self.long_running,
        }


def _require(data: dict, key: str, kind: type | tuple[type, ...]) -> Any:
    """The value of a required key of the given type, or a SkillSpecError naming the key."""
    if key not in data:
        raise SkillSpecError(f"missing required key '{key}'")
    value = data[key]
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise SkillSpecError(f"'{key}' must be of type {getattr(kind, '__name__', kind)}")
    return value


def _choice(value: Any, allowed: tuple[str, ...], key: str) -> str:
    """The value if it is one of the allowed words, else a SkillSpecError listing them."""
    if value not in allowed:
        raise SkillSpecError(f"'{key}' must be one of {', '.join(allowed)} (got {value!r})")
    return value


def _schema(value: Any, key: str) -> dict[str, Any]:
    """A valid JSON Schema (draft 2020-12) object, or a SkillSpecError."""
    if not isinstance(value, dict):
        raise SkillSpecError(f"'{key}' must be a JSON Schema object")
    try:
        Draft202012Validator.check_schema(value)
    except SchemaError as exc:
        raise SkillSpecError(f"'{key}' is not a valid JSON Schema: {exc.message}") from None
    return value


def _model_needs(data: Any) -> ModelNeeds:
    """The `model:` block: min_context, capabilities (known names only), preferred_tier 1-3."""
    if data is None:
        return ModelNeeds()
    if not isinstance(data, dict):
        raise SkillSpecError("'model' must be a mapping")
    capabilities = frozenset(data.get("capabilities") or ())
    unknown = capabilities - set(CAPABILITIES)
    if unknown:
        raise SkillSpecError(f"'model.capabilities' has unknown names: {', '.join(sorted(unknown))}")
    min_context = data.get("min_context", ModelNeeds.min_context)
    tier = data.get("preferred_tier", ModelNeeds.preferred_tier)
    if not isinstance(min_context, int) or min_context <= 0:
        raise SkillSpecError("'model.min_context' must be a positive integer")
    if tier not in (1, 2, 3):
        raise SkillSpecError("'model.preferred_tier' must be 1, 2 or 3")
    return ModelNeeds(min_context=min_context, capabilities=capabilities, preferred_tier=tier)


def _examples(value: Any, input_schema: dict[str, Any]) -> tuple[Example, ...]:
    """The `examples:` list: each {name, input} with a unique name and an input valid against the input schema."""
    if value is None:
        return ()
    if not isinstance(value, list):
        raise SkillSpecError("'examples' must be a list of {name, input}")
    validator = Draft202012Validator(input_schema)
    examples: list[Example] = []
    for index, entry in enumerate(value):
        where = f"examples[{index}]"
        if not isinstance(entry, dict) or set(entry) != {"name", "input"}:
            raise SkillSpecError(f"'{where}' must be a mapping with exactly 'name' and 'input'")
        name, data = entry["name"], entry["input"]
        if not isinstance(name, str) or not name or any(e.name == name for e in examples):
            raise SkillSpecError(f"'{where}.name' must be a non-empty string, unique among the examples")
        if not isinstance(data, dict):
            raise SkillSpecError(f"'{where}.input' must be a mapping")
        try:
            json.dumps(data)
        except (TypeError, ValueError):  # YAML turns bare dates and times into objects no request can carry
            raise SkillSpecError(f"'{where}.input' must be plain JSON values (quote dates and times)") from None
        error = next(iter(sorted(validator.iter_errors(data), key=lambda e: list(e.path))), None)
        if error is not None:
            at = "/".join(str(part) for part in error.path) or "(root)"
            raise SkillSpecError(f"'{where}' ({name}) does not match input_schema at {at}: {error.message[:200]}")
        examples.append(Example(name=name, input=data))
    return tuple(examples)


def parse_spec(data: Any, folder: Path) -> SkillSpec:
    """Build a SkillSpec from the parsed YAML of skill.yaml, or raise SkillSpecError naming the problem."""
    if not isinstance(data, dict):
        raise SkillSpecError("the file must hold a YAML mapping")
    skill_id = _require(data, "id", str)
    if skill_id != folder.name:
        raise SkillSpecError(f"'id' ({skill_id}) must equal the folder name ({folder.name})")
    hosts = tuple(_require(data, "hosts", list))
    for host in hosts:
        _choice(host, HOSTS, "hosts")
    output = _choice(_require(data, "output", str), OUTPUT_KINDS, "output")
    default_format = "text" if output == "text" else "json"
    response_format = _choice(data.get("response_format", default_format), RESPONSE_FORMATS, "response_format")
    response_schema = data.get("response_schema")
    if response_format == "json":
        response_schema = _schema(response_schema, "response_schema")
    prompts = data.get("prompts") or ({"default": data["prompt"]} if "prompt" in data else None)
    if not isinstance(prompts, dict) or "default" not in prompts:
        raise SkillSpecError("a skill needs 'prompt: FILE' or 'prompts: {default: FILE, ...}'")
    input_schema = _schema(_require(data, "input_schema", dict), "input_schema")
    max_input_chars = data.get("max_input_chars", DEFAULT_MAX_INPUT_CHARS)
    if not isinstance(max_input_chars, int) or max_input_chars <= 0:
        raise SkillSpecError("'max_input_chars' must be a positive integer")
    large_input_job = data.get("large_input_job")
    if large_input_job is not None and not (isinstance(large_input_job, str) and large_input_job):
        raise SkillSpecError("'large_input_job' must be the id of a long-running skill")
    return SkillSpec(
        id=skill_id,
        name=_require(data, "name", str),
        description=_require(data, "description", str),
        hosts=hosts,
        input_schema=input_schema,
        output=output,
        folder=folder,
        response_format=response_format,
        response_schema=response_schema,
        streaming=bool(data.get("streaming", False)),
        long_running=bool(data.get("long_running", False)),
        max_input_chars=max_input_chars,
        large_input_job=large_input_job,
        max_output_tokens=int(data.get("max_output_tokens", 1024)),
        temperature=data.get("temperature"),
        model=_model_needs(data.get("model")),
        spotlight=tuple(data.get("spotlight") or ()),
        spotlight_mode=_choice(data.get("spotlight_mode", "datamark"), SPOTLIGHT_MODES, "spotlight_mode"),
        history_input=data.get("history_input"),
        rewrite_style=bool(data.get("rewrite_style", False)),
        verbatim_fields=tuple(data.get("verbatim_fields") or ()),
        prompt_files={str(k): str(v) for k, v in prompts.items()},
        plugin=data.get("plugin"),
        examples=_examples(data.get("examples"), input_schema),
    )
