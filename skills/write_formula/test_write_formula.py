"""Golden tests of write_formula: the formula is validated by parsing before it is returned."""

import json

import pytest

from backend.skills.sdk import FakeModel, ModelOutputError, assert_document_is_data, load_skill, skill_folder

SKILL = load_skill(skill_folder(__file__))
RANGE = {"address": "Sheet1!A1:B4", "values": [["Region", "Sales"], ["North", 10], ["South", 20], ["East", 5]]}
DATA = {"instructions": "Total sales of the South region", "range": RANGE, "target_cell": "D1"}


def _answer(formula):
    """A model answer proposing this formula."""
    return json.dumps({"formula": formula, "explanation": "Sums the Sales of rows whose Region is South."})


def test_valid_formula_is_returned_with_its_summary():
    """The range is spotlighted; the formula comes back parsed, '=' added when missing."""
    model = FakeModel(_answer('SUMIF(A2:A4,"South",B2:B4)'))
    output = SKILL.invoke(DATA, model)
    assert_document_is_data(model.requests[0], json.dumps(RANGE["values"][0]))
    assert output["formula"] == '=SUMIF(A2:A4,"South",B2:B4)'
    assert output["summary"]["functions"] == ["SUMIF"]
    assert output["summary"]["references"] == ["A2:A4", "B2:B4"]


def test_unparsable_formula_is_repaired_once():
    """The repair request quotes the parser's complaint; the repaired formula is returned."""
    model = FakeModel(_answer('=SUMIF(A2:A4,"South",B2:B4'), _answer('=SUMIF(A2:A4,"South",B2:B4)'))
    output = SKILL.invoke(DATA, model)
    assert output["formula"] == '=SUMIF(A2:A4,"South",B2:B4)'
    assert "does not parse" in model.requests[1].messages[-1].content


def test_still_invalid_after_repair_is_a_clean_error():
    """Two bad formulas: 502 invalid_model_output, the problem in details."""
    model = FakeModel(_answer("=SUM(A1:A3"), _answer("=1+"))
    with pytest.raises(ModelOutputError) as caught:
        SKILL.invoke(DATA, model)
    assert "does not parse" in caught.value.details["problem"]
    assert "=1+" not in caught.value.details["problem"]  # the model's answer is made from the document: never quoted
