"""Golden tests of proofread: the model's edits are located in the text before the add-in applies them."""

import json

import pytest

from backend.skills.builtin.edits import apply_edits
from backend.skills.sdk import FakeModel, ModelOutputError, assert_document_is_data, load_skill, skill_folder

SKILL = load_skill(skill_folder(__file__))
TEXT = "Their going to the libary tomorow. The libary opens at nine."


def _answer(*edits):
    """A model answer holding these edits."""
    return json.dumps({"edits": list(edits)})


def test_request_asks_for_json_and_spotlights_the_text():
    """Structured output: the schema goes in ChatRequest.json_schema and in the system prompt."""
    model = FakeModel(_answer())
    assert SKILL.invoke({"text": TEXT}, model) == {"edits": []}
    request = model.requests[0]
    assert_document_is_data(request, TEXT)
    assert request.json_schema["required"] == ["edits"]
    assert '"edits"' in request.messages[0].content


def test_offsets_are_checked_fixed_or_the_edit_dropped():
    """Right offsets stay, wrong ones are found by search (nearest occurrence), invented originals are dropped."""
    answer = _answer(
        {"original": "Their", "replacement": "They're", "reason": "contraction", "start": 0},
        {"original": "libary", "replacement": "library", "reason": "spelling", "start": 40},
        {"original": "tomorow", "replacement": "tomorrow", "reason": "spelling", "start": 3},
        {"original": "libary", "replacement": "library", "reason": "spelling"},
        {"original": "teh", "replacement": "the", "reason": "not in the text", "start": 5},
        {"original": "nine", "replacement": "nine", "reason": "no change"},
    )
    edits = SKILL.invoke({"text": TEXT}, FakeModel(answer))["edits"]
    assert [(e["original"], e["start"], e["end"]) for e in edits] == [
        ("Their", 0, 5),
        ("libary", 19, 25),
        ("tomorow", 26, 33),
        ("libary", 39, 45),
    ]
    for edit in edits:
        assert TEXT[edit["start"] : edit["end"]] == edit["original"]
    assert apply_edits(TEXT, edits) == "They're going to the library tomorrow. The library opens at nine."


def test_datamarked_originals_are_unmarked_before_locating():
    """A model echoing the marker ('toˆthe') still gets its edit located."""
    answer = _answer({"original": "toˆtheˆlibary", "replacement": "to the library", "reason": "spelling"})
    edits = SKILL.invoke({"text": TEXT}, FakeModel(answer))["edits"]
    assert edits[0]["original"] == "to the libary" and edits[0]["start"] == 12


def test_invalid_json_gets_one_repair_then_a_clean_error():
    """Not JSON -> repair request naming the problem -> still invalid -> 502 invalid_model_output."""
    model = FakeModel("I found two mistakes!", '{"edits": [{"original": "x"}]}')
    with pytest.raises(ModelOutputError) as caught:
        SKILL.invoke({"text": TEXT}, model)
    assert caught.value.status == 502 and caught.value.code == "invalid_model_output"
    repair = model.requests[1]
    assert [m.role for m in repair.messages] == ["system", "user", "assistant", "user"]
    assert "not valid JSON" in repair.messages[-1].content
    assert TEXT not in str(caught.value.to_dict())


def test_repair_succeeds():
    """A repaired answer is used."""
    good = _answer({"original": "tomorow", "replacement": "tomorrow", "reason": "spelling"})
    model = FakeModel('```json\n{"edits": [{"original": 1}]}\n```', good)
    assert SKILL.invoke({"text": TEXT}, model)["edits"][0]["start"] == 26
    assert len(model.requests) == 2
