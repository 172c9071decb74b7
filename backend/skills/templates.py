"""Prompt templates in Semantic Kernel's prompt YAML format, rendered without importing Semantic Kernel.

A prompt file is an SK `PromptTemplateConfig` (name, description, template_format: semantic-kernel, template,
input_variables, execution_settings). Its template holds `<message role="...">` blocks and `{{$variable}}` blocks.
Unlike SK, the message structure is parsed from the trusted template *before* values are substituted, so nothing in
a value (document text above all) can open a new message or change a role.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from backend.providers.base import ChatMessage
from backend.skills.spec import SkillSpecError

ROLES = ("system", "user", "assistant")
_MESSAGE = re.compile(r'<message\s+role\s*=\s*"(?P<role>[a-z]+)"\s*>(?P<body>.*?)</message>', re.DOTALL)
_BLOCK = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_VARIABLE = re.compile(r"^\s*\$(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*$")


@dataclass(frozen=True)
class PromptTemplate:
    """One parsed prompt: its messages as (role, template text) and the variables each one uses."""

    name: str
    messages: tuple[tuple[str, str], ...]
    input_variables: tuple[str, ...]
    execution_settings: dict[str, Any]
    defaults: dict[str, str] = field(default_factory=dict)  # input_variables[].default: what an unset one renders

    def variables_in(self, role: str) -> set[str]:
        """Names of the variables referenced by the messages of one role."""
        found: set[str] = set()
        for message_role, text in self.messages:
            if message_role == role:
                found |= {_VARIABLE.match(block).group("name") for block in _BLOCK.findall(text)}
        return found

    def variables_used(self) -> set[str]:
        """Names of the variables referenced by any message."""
        return self.variables_in("system") | self.variables_in("user") | self.variables_in("assistant")

    def render(self, variables: dict[str, str]) -> list[ChatMessage]:
        """The chat messages with each {{$name}} replaced by its value; a missing value renders as the variable's
        declared default (SK's `input_variables[].default`), else empty."""

        def substitute(match: re.Match) -> str:
            name = _VARIABLE.match(match.group(1)).group("name")
            return variables[name] if name in variables else self.defaults.get(name, "")

        return [ChatMessage(role=role, content=_BLOCK.sub(substitute, text).strip()) for role, text in self.messages]


def parse_prompt(data: Any) -> PromptTemplate:
    """Check and parse the YAML mapping of an SK prompt file, or raise SkillSpecError naming the problem."""
    if not isinstance(data, dict) or not isinstance(data.get("template"), str):
        raise SkillSpecError("a prompt file must be a mapping with a 'template' string")
    template_format = data.get("template_format", "semantic-kernel")
    if template_format != "semantic-kernel":
        raise SkillSpecError(f"template_format must be 'semantic-kernel' (got {template_format!r})")
    template = data["template"]
    for block in _BLOCK.findall(template):
        if not _VARIABLE.match(block):
            raise SkillSpecError(f"unsupported template block '{{{{{block.strip()}}}}}': only {{{{$name}}}} is allowed")
    messages = tuple((m.group("role"), m.group("body")) for m in _MESSAGE.finditer(template))
    leftover = _MESSAGE.sub("", template).strip()
    if not messages or leftover:
        raise SkillSpecError('the template must consist of <message role="..."> blocks only')
    for role, _ in messages:
        if role not in ROLES:
            raise SkillSpecError(f"unknown message role '{role}'")
    if messages[0][0] != "system" or all(role != "user" for role, _ in messages):
        raise SkillSpecError("the template must start with a system message and contain a user message")
    variables = [v for v in data.get("input_variables") or () if isinstance(v, dict)]
    defaults = {str(v.get("name")): str(v["default"]) for v in variables if v.get("default") is not None}
    return PromptTemplate(
        name=str(data.get("name", "")),
        messages=messages,
        input_variables=tuple(str(v.get("name")) for v in variables),
        execution_settings=dict(data.get("execution_settings") or {}),
        defaults=defaults,
    )
