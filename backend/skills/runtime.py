"""A loaded skill: build the chat request for an input, and turn the model's answer into the skill's output.

The dispatcher wires a skill to a model with two calls, `build_request` and `parse_output`, or hands `invoke` a
callable that answers one ChatRequest with the model's text (it is called again once for a repair).
"""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from backend.providers.base import ChatMessage, ChatRequest
from backend.skills import inputs, ranges, sanitize, spotlight, structured
from backend.skills.spec import SkillSpec
from backend.skills.streaming import StreamSanitizer
from backend.skills.templates import PromptTemplate

EMPTY_DOCUMENT = "(none)"
# The Word input's selection and whole document (API.md): the pane's "whole document" scope sends the same text as
# both, which the model needs only once.
SELECTION, DOCUMENT = "text", "document"


def format_value(value: Any) -> str:
    """A template variable's text: strings as they are; an Excel range as its address, one JSON row of values per
    line (date and time cells as ISO 8601 text), then the cells that hold a formula (Office.js repeats every constant
    in `formulas`: not sent again)."""
    if isinstance(value, str):
        return value
    if ranges.is_range(value):
        rows, dated = ranges.values_as_shown(value)
        shown = "; dates and times as ISO 8601 text" if dated else ""
        lines = [f"address: {value.get('address', '(unknown)')}", f"values (one JSON array per row{shown}):"]
        lines += [json.dumps(row, ensure_ascii=False, default=str) for row in rows]
        formulas = ranges.formula_cells(value)
        if formulas:
            lines.append("cells holding a formula (their values above are its results):")
            lines += [f"{cell}: {formula}" for cell, formula in formulas]
        return "\n".join(lines)
    return json.dumps(value, ensure_ascii=False, default=str)


def _map_strings(value: Any, change: Callable[[str], str], skip_keys: frozenset[str] = frozenset()) -> Any:
    """The JSON value with `change` applied to every string, except under keys listed in skip_keys."""
    if isinstance(value, str):
        return change(value)
    if isinstance(value, list):
        return [_map_strings(item, change, skip_keys) for item in value]
    if isinstance(value, dict):
        return {k: v if k in skip_keys else _map_strings(v, change, skip_keys) for k, v in value.items()}
    return value


class Skill:
    """One skill: its spec, its parsed prompts, and its optional plugin (imported on first use)."""

    def __init__(self, spec: SkillSpec, prompts: dict[str, PromptTemplate]):
        self.spec = spec
        self.prompts = prompts
        self._plugin: Any = None

    @property
    def plugin(self) -> Any:
        """The plugin instance, importing its file the first time (Semantic Kernel's import is slow)."""
        if self._plugin is None and self.spec.plugin:
            file_name, class_name = self.spec.plugin.split(":")
            module_name = f"switchboard_skill_{self.spec.id}"
            module = sys.modules.get(module_name)
            if module is None:
                location = importlib.util.spec_from_file_location(module_name, self.spec.folder / file_name)
                module = importlib.util.module_from_spec(location)
                sys.modules[module_name] = module
                location.loader.exec_module(module)
            self._plugin = getattr(module, class_name)()
        return self._plugin

    def needed_capabilities(self, streaming: bool) -> frozenset[str]:
        """Model capabilities this call requires: the skill's own, with "streaming" only for a streamed answer."""
        needs = set(self.spec.model.capabilities) - {"streaming"}
        return frozenset(needs | {"streaming"} if streaming else needs)

    def check_input(self, data: Any) -> None:
        """Raise 422 (schema, or the plugin's own check) or 413 (size) for an input that may not go to a model."""
        inputs.check_input(self.spec, data)
        check = getattr(self.plugin, "check_input", None)
        problems = check(data) if check is not None else None
        if problems:
            raise inputs.InvalidInput(self.spec.id, problems)

    def variables(self, data: dict[str, Any], nonce: str, used: set[str] | None = None) -> dict[str, str]:
        """Template variables: the input's fields, the plugin's computed values, document content spotlighted."""
        defaults = {k: p["default"] for k, p in self.spec.input_schema.get("properties", {}).items() if "default" in p}
        values: dict[str, Any] = {**defaults, **{k: v for k, v in data.items() if k != self.spec.history_input}}
        prepare = getattr(self.plugin, "prepare", None)
        if prepare is not None:
            values.update(prepare(data))
        wanted = set(values) | set(self.spec.spotlight) if used is None else used  # documents can be huge
        rendered = {name: format_value(v) for name, v in values.items() if v is not None and name in wanted}
        selection = rendered.get(SELECTION)
        if selection is not None and selection == rendered.get(DOCUMENT) and {SELECTION, DOCUMENT} <= wanted:
            del rendered[SELECTION]  # the selection is the whole document: sent once, as the document
        for name in (n for n in self.spec.spotlight if n in wanted and n != self.spec.history_input):
            text = rendered.get(name)
            if text:
                rendered[name] = spotlight.spotlight_document(text, name, nonce, self.spec.spotlight_mode)
            else:
                rendered[name] = EMPTY_DOCUMENT
        return rendered

    def history_messages(self, data: dict[str, Any], nonce: str) -> list[ChatMessage]:
        """Earlier turns in their roles. The user's past questions are the user's voice, sent as they are, like the
        new question; the assistant's past answers may quote the document, and are spotlighted like it when the
        skill lists its history input under `spotlight`."""
        name = self.spec.history_input
        marked = name in self.spec.spotlight
        turns = []
        for turn in data.get(name) or ():
            content = turn["content"]
            if marked and turn["role"] == "assistant" and content:
                content = spotlight.spotlight_document(content, name, nonce, self.spec.spotlight_mode)
            turns.append(ChatMessage(role=turn["role"], content=content))
        return turns

    def build_request(self, data: dict[str, Any], *, prompt: str = "default", nonce: str | None = None) -> ChatRequest:
        """The ChatRequest for this input: system prompt (plus the data notice), history, then user turn(s)."""
        nonce = nonce or spotlight.new_nonce()
        template = self.prompts[prompt]
        messages = template.render(self.variables(data, nonce, template.variables_used()))
        system = messages[0]
        if self.spec.spotlight:
            system.content += "\n\n" + spotlight.system_notice(nonce, self.spec.spotlight_mode)
        if self.spec.response_format == "json":
            system.content += "\n\nAnswer with only a JSON value matching this JSON Schema, no other text:\n"
            system.content += json.dumps(self.spec.response_schema)
        if self.spec.history_input:
            messages[1:1] = self.history_messages(data, nonce)
        return ChatRequest(
            messages=messages,
            max_output_tokens=self.spec.max_output_tokens,
            temperature=self.spec.temperature,
            json_schema=self.spec.response_schema if self.spec.response_format == "json" else None,
        )

    def _unmark(self, text: str, data: dict[str, Any]) -> str:
        """Undo datamarking the model echoed, unless the document itself contained the marker."""
        if self.spec.spotlight_mode != "datamark" or spotlight.DATAMARK in json.dumps(data, ensure_ascii=False):
            return text
        return spotlight.unmark(text)

    def stream_sanitizer(self, data: dict[str, Any], allowed_hosts: Iterable[str] = ()) -> StreamSanitizer:
        """For a streamed text answer: feed() each chunk and send what it returns; finish() is parse_output's text."""
        unmark = self._unmark(spotlight.DATAMARK, data) != spotlight.DATAMARK
        return StreamSanitizer(allowed_hosts, self.spec.rewrite_style, unmark)

    def parse_output(self, text: str, data: dict[str, Any], allowed_hosts: Iterable[str] = ()) -> Any:
        """The skill's output from the model's text; raises structured.OutputInvalid when a repair is needed."""
        hosts = tuple(allowed_hosts)
        if self.spec.response_format == "text":
            output: Any = sanitize.sanitize_output(self._unmark(text, data), hosts, self.spec.rewrite_style)
        else:
            value = structured.parse_structured(text, self.spec.response_schema)
            value = _map_strings(value, lambda s: self._unmark(s, data))

            def clean(s: str) -> str:
                return sanitize.strip_untrusted_links(sanitize.strip_html(s), hosts)

            output = _map_strings(value, clean, frozenset(self.spec.verbatim_fields))
        finish = getattr(self.plugin, "finish", None)
        return finish(output, data) if finish is not None else output

    def invoke(self, data: dict[str, Any], complete: Callable[[ChatRequest], str], **options: Any) -> Any:
        """Check, build, ask the model, parse; one repair attempt; ModelOutputError (502) if still invalid."""
        self.check_input(data)
        request = self.build_request(data, nonce=options.get("nonce"))
        answer = complete(request)
        try:
            return self.parse_output(answer, data, options.get("allowed_hosts", ()))
        except structured.OutputInvalid as exc:
            repair = structured.repair_request(request, answer, str(exc), self.spec.response_schema)
            answer = complete(repair)
        try:
            return self.parse_output(answer, data, options.get("allowed_hosts", ()))
        except structured.OutputInvalid as exc:
            raise structured.ModelOutputError(self.spec.id, exc.public) from None

    async def ainvoke(
        self, data: dict[str, Any], complete: Callable[[ChatRequest], Awaitable[str]], **options: Any
    ) -> Any:
        """`invoke` for an async model callable."""
        self.check_input(data)
        request = self.build_request(data, nonce=options.get("nonce"))
        answer = await complete(request)
        try:
            return self.parse_output(answer, data, options.get("allowed_hosts", ()))
        except structured.OutputInvalid as exc:
            repair = structured.repair_request(request, answer, str(exc), self.spec.response_schema)
            answer = await complete(repair)
        try:
            return self.parse_output(answer, data, options.get("allowed_hosts", ()))
        except structured.OutputInvalid as exc:
            raise structured.ModelOutputError(self.spec.id, exc.public) from None
