"""analyze_workbook: a long-running skill; per-sheet and overview prompts wrap workbook content as data."""

from backend.skills.builtin.range_stats import analyze_values
from backend.skills.sdk import InvalidInput, assert_document_is_data, load_skill, skill_folder

SKILL = load_skill(skill_folder(__file__))
SHEETS = [{"name": "Q1", "range": {"address": "Q1!A1:B3", "values": [["Item", "Qty"], ["Pen", 4], ["Ink", 9]]}}]


def test_inputs_and_prompts():
    """The input schema accepts sheets; the sheet and its statistics are data in the per-sheet request."""
    SKILL.check_input({"sheets": SHEETS})
    statistics = analyze_values(SHEETS[0]["range"]["values"])
    request = SKILL.build_request({"sheets": SHEETS, "sheet": "Q1 (Q1!A1:B3)", "statistics": statistics})
    assert_document_is_data(request, "Q1 (Q1!A1:B3)")
    assert '"Qty"' in request.messages[1].content
    request = SKILL.build_request({"sheets": SHEETS, "summaries": "Sheet Q1: two items."}, prompt="reduce")
    assert_document_is_data(request, "Sheet Q1: two items.")


def test_sheets_are_required():
    """Without sheets the input is invalid."""
    try:
        SKILL.check_input({})
    except InvalidInput as exc:
        assert exc.details["fields"] == [{"field": "sheets", "message": "is required"}]
    else:
        raise AssertionError("expected InvalidInput")
