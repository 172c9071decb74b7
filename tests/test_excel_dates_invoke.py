"""A 1904 workbook's dates over HTTP, as the pane sends them (`date_system: 1904` beside `number_formats`): through the
real invoke endpoint to the loopback fake model and back. An old Mac workbook holds 2024-01-01 as 43830, which the
default 1900 date system reads as 2020-01-01."""

from __future__ import annotations

import json

import pytest

from tests.auth_fixtures import TENANT_A, bearer, entra, entra_app_config, make_token, signing_key, tenants  # noqa: F401
from tests.test_invoke import providers_config, servers, user  # noqa: F401
from tests.test_skills_addin_inputs import run, user_turn

CELLS = [["Day", "Visitor"], [43830, " ann lee"], [43831.5, "Bob"]]
RANGE_1904 = {
    "address": "Visits!A1:B3",
    "values": CELLS,
    "formulas": CELLS,
    "number_formats": [[], ["yyyy-mm-dd"], ["yyyy-mm-dd h:mm"]],
    "date_system": 1904,
}


@pytest.fixture
def app_config(app_config, entra, servers, tmp_path, monkeypatch):  # noqa: F811
    """The loopback-Entra configuration plus a providers file naming both fakes."""
    return providers_config(app_config, entra, servers, tmp_path, monkeypatch)


def test_clean_data_round_trip_keeps_a_1904_workbooks_dates(client, user, servers):  # noqa: F811
    """The model reads the dates the user sees; the cleaned table comes back in the workbook's own serials: an
    unchanged date exactly, a corrected one as its 1904 serial (the 1900 one would be 4 years and a day late)."""
    table = [["Day", "Visitor"], ["2024-01-01", "Ann Lee"], ["2024-01-03T12:00", "Bob"]]
    changes = [{"row": 1, "column": 1, "reason": "trim and capitalise"}, {"row": 2, "column": 0, "reason": "typo"}]
    servers[0].script(reply=json.dumps({"table": table, "changes": changes}))
    response = run(client, user, "clean_data", {"range": RANGE_1904})
    assert response.status_code == 200, response.get_json()
    turn = user_turn(servers[0])
    assert '"2024-01-01"' in turn and '"2024-01-02T12:00"' in turn
    assert "2020-01-01" not in turn and "43830" not in turn and "date_system" not in turn
    output = response.get_json()["output"]
    assert output["table"] == [["Day", "Visitor"], [43830, "Ann Lee"], [43832.5, "Bob"]]
    assert output["changes"] == [
        {"row": 1, "column": 1, "before": " ann lee", "after": "Ann Lee", "reason": "trim and capitalise"},
        {"row": 2, "column": 0, "before": "2024-01-02T12:00", "after": "2024-01-03T12:00", "reason": "typo"},
    ]


def test_analyze_range_profiles_a_1904_workbooks_dates(client, user, servers):  # noqa: F811
    """The statistics the user gets, and the model narrates, name the workbook's dates, not days 4 years earlier."""
    response = run(client, user, "analyze_range", {"range": RANGE_1904})
    assert response.status_code == 200, response.get_json()
    day = response.get_json()["output"]["statistics"]["profiles"][0]
    assert day["dates"] == {"count": 2, "earliest": "2024-01-01", "latest": "2024-01-02T12:00", "distinct": 2}
    assert "2024-01-02T12:00" in user_turn(servers[0])


def test_a_date_system_other_than_1900_or_1904_is_a_422_before_any_model_call(client, user, servers):  # noqa: F811
    """The field is checked like the rest of the range: a 422 naming it, and no model is paid for."""
    response = run(client, user, "clean_data", {"range": {**RANGE_1904, "date_system": 1905}})
    assert response.status_code == 422, response.get_json()
    assert "range/date_system must be one of 1900, 1904" in response.get_json()["error"]["message"]
    assert servers[0].requests == []
