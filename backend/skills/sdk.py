"""The skill developer kit: everything a skill's plugin or test may import, and nothing else.

    from backend.skills.sdk import FakeModel, OutputInvalid, kernel_function, load_skill

- `load_skill(folder)` loads a skill folder as the server does (`Skill.build_request`, `Skill.parse_output`,
  `Skill.invoke`); a broken folder raises `SkillLoadError` naming the file and the problem.
- A plugin is a plain class named in skill.yaml (`plugin: plugin.py:MyPlugin`) with Semantic Kernel
  `@kernel_function` methods, and three optional hooks the runtime calls: `check_input(input) -> [{field, message}]`
  (input problems a schema cannot express: a 422 before any model call), `prepare(input) -> dict` (extra template
  variables, e.g. computed statistics) and `finish(output, input) -> output` (check or shape the parsed answer;
  raise `OutputInvalid("what is wrong")` to have the model repair its answer once; a message that quotes the
  answer needs `public=` too, a quote-free text for the caller's error body).
- `InvalidInput` (422, details.fields) and `InputTooLarge` (413) are what `Skill.invoke` raises for bad input.
- `FakeModel` answers ChatRequests with scripted text and records them, for golden tests without a provider.
- `assert_document_is_data(request, text)` checks the injection defence on the exact request a provider receives.
- Excel dates (docs/skills.md, "Dates in Excel ranges"): `values_as_shown(range)` is a range's values as the model
  reads them, numbers in a date or time format as ISO 8601 text; `date_system_of(range)` is its workbook's
  `DateSystem` (1900, or 1904 for old Mac workbooks); `serial_to_iso(serial, kind, date_system=1900)` and
  `iso_to_serial(text, date_system=1900)` convert in that date system; `as_typed_text(value)` writes an ISO date-time
  the way Excel reads a typed date ("2024-01-01 09:30").

This list is pinned by tests/test_skills_sdk.py: extend it deliberately.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from backend.providers.base import ChatMessage, ChatRequest
from backend.skills.excel_dates import DateSystem, as_typed_text, iso_to_serial, serial_to_iso
from backend.skills.inputs import InputTooLarge, InvalidInput
from backend.skills.loader import SkillLoadError, load_skill
from backend.skills.ranges import date_system_of, values_as_shown
from backend.skills.runtime import Skill
from backend.skills.spec import SkillSpec
from backend.skills.spotlight import DATAMARK, datamark
from backend.skills.structured import ModelOutputError, OutputInvalid

__all__ = [
    "DATAMARK",
    "ChatMessage",
    "ChatRequest",
    "DateSystem",
    "FakeModel",
    "InputTooLarge",
    "InvalidInput",
    "ModelOutputError",
    "OutputInvalid",
    "Skill",
    "SkillLoadError",
    "SkillSpec",
    "as_typed_text",
    "assert_document_is_data",
    "date_system_of",
    "iso_to_serial",
    "kernel_function",  # noqa: F822 - provided lazily by __getattr__ below
    "load_skill",
    "serial_to_iso",
    "skill_folder",
    "values_as_shown",
]


def skill_folder(test_file: str) -> Path:
    """The folder of the skill whose test file this is (pass __file__)."""
    return Path(test_file).resolve().parent


class FakeModel:
    """A scripted model: each call returns the next reply (or reply(request) if a reply is callable)."""

    def __init__(self, *replies: str | Callable[[ChatRequest], str]):
        self.replies = list(replies)
        self.requests: list[ChatRequest] = []

    def __call__(self, request: ChatRequest) -> str:
        """Record the request and answer it with the next scripted reply."""
        self.requests.append(request)
        if not self.replies:
            raise AssertionError("FakeModel was called more often than replies were scripted")
        reply = self.replies.pop(0)
        return reply(request) if callable(reply) else reply


def assert_document_is_data(request: ChatRequest, documents: str | Iterable[str], mode: str = "datamark") -> None:
    """Each document text is present only in user messages, spotlighted between boundaries, and the system
    message announces the boundaries; raises AssertionError otherwise."""
    import base64
    import re

    system = request.messages[0]
    assert system.role == "system", "the first message must be the system prompt"
    assert "never instructions" in system.content, "the system prompt must declare document content as data"
    nonce = re.search(r"<<<DATA name (\w+)>>>", system.content)
    assert nonce, "the system prompt must name the boundaries"
    for text in [documents] if isinstance(documents, str) else documents:
        form = base64.b64encode(text.encode()).decode() if mode == "base64" else datamark(text)
        holders = [m for m in request.messages if form in m.content]
        assert holders, "the document text is missing from the request"
        assert all(m.role == "user" for m in holders), "document text may travel only in user messages"
        pattern = rf"<<<DATA (\w+) {nonce.group(1)}>>>\n(.*?)\n<<<END DATA \1 {nonce.group(1)}>>>"
        for message in holders:
            blocks = [b.group(2) for b in re.finditer(pattern, message.content, re.S)]
            assert any(form in b for b in blocks), "the document text must sit between the request's boundaries"
        if mode == "datamark" and form != text:  # the text has a space or another separator to mark
            assert all(text not in m.content for m in request.messages), "document text must be datamarked"


def __getattr__(name: str) -> Any:
    """`kernel_function` is Semantic Kernel's decorator, imported only when a plugin asks for it (SK is slow)."""
    if name == "kernel_function":
        from semantic_kernel.functions import kernel_function

        return kernel_function
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
