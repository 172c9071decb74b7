"""What the add-in really sends, over HTTP to the loopback fake models: every pane input must work or be refused
with a message a person can act on (the pane shows `error.message` only, never `details`).

The Word pane sends `{text}` (the selection, or the body when nothing is selected) or, for "the whole document",
`{text: body, document: body}`, plus `instructions` when typed; the Excel pane sends `{range: {address, values,
formulas}}` plus `instructions` and `target_cell` (addin/src/hosts/word.ts, excel.ts, ui/App.tsx).
"""

from __future__ import annotations

import json

import pytest

from tests.auth_fixtures import TENANT_A, bearer, entra, entra_app_config, make_token, signing_key, tenants  # noqa: F401
from tests.test_invoke import providers_config, servers, user  # noqa: F401

SECRET = "Project Nightingale closes at 41 million"


@pytest.fixture
def app_config(app_config, entra, servers, tmp_path, monkeypatch):  # noqa: F811
    """The loopback-Entra configuration plus a providers file naming both fakes."""
    return providers_config(app_config, entra, servers, tmp_path, monkeypatch)


def run(client, headers, skill: str, data: dict):
    """POST an invoke of a skill, JSON answer."""
    return client.post(f"/api/skills/{skill}/invoke", json={"input": data}, headers=headers)


def user_turn(server) -> str:
    """The last user message the fake model received."""
    return [m for m in server.requests[-1].body["messages"] if m["role"] == "user"][-1]["content"]


def test_rewrite_from_the_pane_has_no_tone_field_and_works(client, user, servers):  # noqa: F811
    """The pane has no tone picker: the user's instructions say what to do, else the passage is made clearer."""
    response = run(client, user, "rewrite", {"text": SECRET, "instructions": "make it sound formal"})
    assert response.status_code == 200, response.get_json()
    turn = user_turn(servers[0])
    assert "make it sound formal" in turn and "Tone: ." not in turn
    assert run(client, user, "rewrite", {"text": SECRET}).status_code == 200


def test_translate_from_the_pane_takes_the_language_from_the_instructions(client, user, servers):  # noqa: F811
    """Without target_language the user's wishes name the language (English if they name none)."""
    response = run(client, user, "translate", {"text": SECRET, "instructions": "into German please"})
    assert response.status_code == 200, response.get_json()
    turn = user_turn(servers[0])
    assert "into German please" in turn and "into ." not in turn
    assert "English" in turn


def test_text_to_table_from_the_excel_pane_reads_the_selected_cells(client, user, servers):  # noqa: F811
    """Excel sends a range, never `text`: the text pasted in the selected cells is what becomes a table."""
    table = [["Name", "Age"], ["Alice", 34], ["Bob", 29]]
    servers[0].script(reply=json.dumps({"table": table}))
    cells = [["Alice is 34 years old"], ["Bob is 29 years old"], [""]]
    data = {"range": {"address": "Sheet1!A1:A3", "values": cells, "formulas": cells}}
    response = run(client, user, "text_to_table", data)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["output"] == {"table": table}
    assert "Aliceˆisˆ34ˆyearsˆoldˆ\nBobˆisˆ29ˆyearsˆold" in user_turn(servers[0])  # a line break is marked too


def test_text_to_table_on_empty_cells_is_refused_before_any_model_call(client, user, servers):  # noqa: F811
    """Nothing to turn into a table: a 422 that says what to select, and no model is paid for."""
    data = {"range": {"address": "Sheet1!A1:B2", "values": [["", ""], ["", " "]]}}
    response = run(client, user, "text_to_table", data)
    assert response.status_code == 422
    assert "range holds no text: select the cells" in response.get_json()["error"]["message"]
    assert servers[0].requests == []


def test_whole_document_scope_counts_and_sends_the_document_once(client, user, servers):  # noqa: F811
    """{text: body, document: body}: a 40,000-character document is within summarize's 60,000 limit, and the
    model reads it once, not twice."""
    body = ("Quarterly figures are stable. " * 1400)[:40_000]
    response = run(client, user, "summarize", {"text": body, "document": body})
    assert response.status_code == 200, response.get_json()
    assert user_turn(servers[0]).count("Quarterlyˆfigures") == body.count("Quarterly figures")  # once, not twice


@pytest.mark.parametrize(
    ("skill", "data", "field"),
    [
        ("proofread", {"text": ""}, "text"),  # an empty document, nothing selected
        ("proofread", {"text": " \r\r "}, "text"),  # Word's empty paragraphs
        ("summarize", {"text": "\r\n\t"}, "text"),
        ("rewrite", {"text": "   "}, "text"),
        ("translate", {"text": "\r", "instructions": "into French"}, "text"),
        ("draft", {"text": "context", "instructions": "   "}, "instructions"),
        ("ask", {"document": "Report.", "instructions": " \n"}, "instructions"),
        ("write_formula", {"instructions": "  ", "range": {"address": "A1", "values": [[1]]}}, "instructions"),
        ("explain_formula", {"formula": "   "}, "formula"),
    ],
)
def test_empty_or_blank_input_is_a_422_naming_the_field_in_the_message(client, user, servers, skill, data, field):  # noqa: F811
    """Blank text is not sent to a model to be 'proofread'; the pane's message says what is missing."""
    response = run(client, user, skill, data)
    assert response.status_code == 422, response.get_json()
    error = response.get_json()["error"]
    assert f"{field} must not be empty" in error["message"]
    assert servers[0].requests == []


def test_explain_formula_on_cells_without_a_formula_is_a_422(client, user, servers):  # noqa: F811
    """Excel's formulas array holds constants for plain cells: with no '=' anywhere there is nothing to explain."""
    cells = [["Region", "Sales"], ["North", 10]]
    response = run(
        client, user, "explain_formula", {"range": {"address": "Sheet1!A1:B2", "values": cells, "formulas": cells}}
    )
    assert response.status_code == 422, response.get_json()
    assert "formula" in response.get_json()["error"]["message"]
    assert servers[0].requests == []


@pytest.mark.parametrize(
    ("skill", "data", "advice"),
    [
        ("summarize", {"text": "word " * 14_000}, "'summarize_document'"),
        ("translate", {"text": "word " * 5_000, "instructions": "into French"}, "'translate_document'"),
        ("proofread", {"text": "word " * 5_000}, "shorter"),
        ("rewrite", {"text": "word " * 5_000}, "shorter"),
    ],
)
def test_too_large_for_a_direct_call_says_what_to_do_instead(client, user, skill, data, advice):  # noqa: F811
    """413 input_too_large: a job where a long-running counterpart exists, else a shorter selection; proofread has
    no job, so telling the user to POST /api/jobs would send them to a 404."""
    response = run(client, user, skill, data)
    assert response.status_code == 413
    error = response.get_json()["error"]
    assert error["code"] == "input_too_large" and advice in error["message"]
    assert "word word" not in json.dumps(error)
    if advice == "shorter":
        assert "/api/jobs" not in error["message"] and "job_skill" not in error["details"]
