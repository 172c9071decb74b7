"""Structured output: JSON extraction, schema problems, the repair request, and invoke's one repair."""

from __future__ import annotations

import asyncio
import json

import pytest

from backend.providers.base import ChatMessage, ChatRequest
from backend.skills.loader import default_skills_dir, load_skill
from backend.skills.sdk import FakeModel
from backend.skills.structured import ModelOutputError, OutputInvalid, extract_json, parse_structured, repair_request

SCHEMA = {"type": "object", "required": ["a"], "properties": {"a": {"type": "integer"}}}


@pytest.mark.parametrize(
    "answer",
    ['{"a": 1}', '```json\n{"a": 1}\n```', 'Here you go: {"a": 1} hope it helps', '```\n{"a": 1}\n```'],
)
def test_extract_json_finds_the_value(answer):
    """Plain, fenced and wrapped JSON answers are all read."""
    assert extract_json(answer) == {"a": 1}


def test_problems_name_the_path():
    """A schema mismatch lists the failing path and rule."""
    with pytest.raises(OutputInvalid, match=r"a: 'x' is not of type 'integer'"):
        parse_structured('{"a": "x"}', SCHEMA)
    with pytest.raises(OutputInvalid, match="not valid JSON"):
        parse_structured("no json at all", SCHEMA)


def test_repair_request_extends_the_conversation():
    """Original turns, then the bad answer as assistant, then what to fix with the schema."""
    original = ChatRequest(messages=[ChatMessage("system", "s"), ChatMessage("user", "u")], json_schema=SCHEMA)
    repair = repair_request(original, "bad", "the answer is not valid JSON", SCHEMA)
    assert [(m.role, m.content) for m in repair.messages[:3]] == [("system", "s"), ("user", "u"), ("assistant", "bad")]
    assert repair.messages[3].role == "user" and '"required": ["a"]' in repair.messages[3].content
    assert repair.json_schema == SCHEMA and len(original.messages) == 2


def test_model_output_error_is_a_502_in_the_contract_shape():
    """The route can raise it as is."""
    error = ModelOutputError("proofread", "x" * 2000)
    body = error.to_dict()["error"]
    assert error.status == 502 and body["code"] == "invalid_model_output"
    assert len(body["details"]["problem"]) == 500


def test_text_skill_never_asks_for_repair():
    """A text answer is final: one call."""
    skill = load_skill(default_skills_dir() / "summarize")
    model = FakeModel("Short.")
    assert skill.invoke({"text": "Long text."}, model) == "Short."
    assert len(model.requests) == 1


def test_async_invoke_repairs_the_same_way():
    """ainvoke awaits the model callable, repairs once, then raises."""
    skill = load_skill(default_skills_dir() / "text_to_table")
    answers = iter(["nope", '{"table": [["A"], [1]]}'])
    seen = []

    async def complete(request: ChatRequest) -> str:
        seen.append(request)
        return next(answers)

    assert asyncio.run(skill.ainvoke({"text": "A is 1"}, complete)) == {"table": [["A"], [1]]}
    assert len(seen) == 2

    async def always_bad(request: ChatRequest) -> str:
        return "nope"

    with pytest.raises(ModelOutputError):
        asyncio.run(skill.ainvoke({"text": "A is 1"}, always_bad))


def test_needed_capabilities_follow_the_call():
    """Streaming is required only when the answer is streamed; structured skills never require json_schema."""
    skills = {name: load_skill(default_skills_dir() / name) for name in ("summarize", "proofread")}
    assert skills["summarize"].needed_capabilities(streaming=True) == {"streaming"}
    assert skills["summarize"].needed_capabilities(streaming=False) == frozenset()
    assert skills["proofread"].needed_capabilities(streaming=False) == frozenset()


def test_the_error_body_never_quotes_the_models_answer():
    """The repair prompt may quote the bad answer to the model; the 502 the caller gets names paths and rules only
    (the answer is made from the document, and error bodies carry no document text)."""
    skill = load_skill(default_skills_dir() / "proofread")
    quoted = "Quarterly revenue fell 40 percent"
    bad = json.dumps({"edits": [{"original": "a", "replacement": "b", "reason": "c", "start": quoted}]})
    model = FakeModel(bad, bad)
    with pytest.raises(ModelOutputError) as caught:
        skill.invoke({"text": "Some text."}, model)
    assert "edits/0/start" in caught.value.details["problem"]
    assert quoted not in str(caught.value.to_dict())
    assert quoted in model.requests[1].messages[-1].content  # the repair turn still tells the model what it sent
