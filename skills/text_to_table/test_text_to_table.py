"""Golden tests of text_to_table: a rectangular 2D array with a header row."""

import json

import pytest

from backend.skills.sdk import FakeModel, ModelOutputError, assert_document_is_data, load_skill, skill_folder

SKILL = load_skill(skill_folder(__file__))
TEXT = "Alice is 34 and lives in Oslo.\nBob is 29 and lives in Rome."
TABLE = [["Name", "Age", "City"], ["Alice", 34, "Oslo"], ["Bob", 29, "Rome"]]


def test_table_with_header_is_returned():
    """The text is spotlighted; the model's table is returned as is."""
    model = FakeModel("```json\n" + json.dumps({"table": TABLE}) + "\n```")
    output = SKILL.invoke({"text": TEXT}, model)
    assert_document_is_data(model.requests[0], TEXT)
    assert output == {"table": TABLE}


def test_missing_header_is_repaired():
    """A first row of data instead of names triggers the repair, whose answer is used."""
    model = FakeModel(json.dumps({"table": TABLE[1:]}), json.dumps({"table": TABLE}))
    assert SKILL.invoke({"text": TEXT}, model) == {"table": TABLE}
    assert "header" in model.requests[1].messages[-1].content


@pytest.mark.parametrize(
    "table",
    [[["Name", "Name"], ["a", "b"]], [["Name", "Age"], ["Alice"]], [["Name", {"nested": 1}]], []],
)
def test_invalid_tables_fail_cleanly(table):
    """Duplicate headers, ragged rows, nested cells and empty tables never reach the sheet."""
    model = FakeModel(json.dumps({"table": table}), json.dumps({"table": table}))
    with pytest.raises(ModelOutputError):
        SKILL.invoke({"text": TEXT}, model)


def test_date_cells_reach_the_model_as_dates_and_come_back_in_a_form_excel_reads_as_dates():
    """Selected cells holding dates are read as ISO text, not serials; the prompt asks for ISO dates; a date-time in
    the answer is written the way Excel reads a typed date ("2024-01-05 09:30", not the "T" form)."""
    cells = [["Kickoff with Ann", 45296.375], ["Review with Bo", 45300]]
    data = {
        "range": {
            "address": "Sheet1!A1:B2",
            "values": cells,
            "number_formats": [[None, "d/m/yy h:mm"], [None, "d/m/yy"]],
        }
    }
    table = [["Meeting", "With", "When"], ["Kickoff", "Ann", "2024-01-05T09:00"], ["Review", "Bo", "2024-01-09"]]
    model = FakeModel(json.dumps({"table": table}))
    output = SKILL.invoke(data, model)
    assert_document_is_data(model.requests[0], "Kickoff with Ann\t2024-01-05T09:00\nReview with Bo\t2024-01-09")
    assert "YYYY-MM-DD" in model.requests[0].messages[0].content
    assert output["table"][1:] == [["Kickoff", "Ann", "2024-01-05 09:00"], ["Review", "Bo", "2024-01-09"]]
