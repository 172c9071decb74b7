"""Range statistics: types, missing values, distributions, outliers, correlations, chart suggestions."""

from __future__ import annotations

import statistics

from backend.skills.builtin.range_stats import analyze_values, has_header_row


def test_header_detection():
    """A text row over non-text data is a header; all-text tables and single rows are not."""
    assert has_header_row([["a", "b"], [1, 2]])
    assert not has_header_row([["a", "b"], ["c", "d"]])
    assert not has_header_row([["a", "b"]])
    assert not has_header_row([["a", ""], [1, 2]])


def test_column_types_and_missing_values():
    """number, text, boolean, mixed and empty columns; '' and None count as missing."""
    values = [["N", "T", "B", "M", "E"], [1, "x", True, 1, ""], [2.5, "", False, "y", None], [None, "x", True, 3, ""]]
    stats = analyze_values(values)
    assert [(p["type"], p["missing"]) for p in stats["profiles"]] == [
        ("number", 1),
        ("text", 1),
        ("boolean", 0),
        ("mixed", 0),
        ("empty", 3),
    ]
    assert stats["profiles"][1]["text"] == {"distinct": 1, "top": [{"value": "x", "count": 2}]}
    assert stats["profiles"][3]["numeric"]["count"] == 2


def test_distribution_matches_the_statistics_module():
    """min, max, mean, median, sample stdev and inclusive quartiles."""
    numbers = [3, 7, 8, 5, 12, 14, 21, 13, 18]
    stats = analyze_values([["v"], *[[n] for n in numbers]])["profiles"][0]["numeric"]
    q1, _, q3 = statistics.quantiles(numbers, n=4, method="inclusive")
    assert stats["min"] == 3 and stats["max"] == 21 and stats["median"] == 12
    assert stats["mean"] == round(statistics.fmean(numbers), 4)
    assert abs(stats["stdev"] - statistics.stdev(numbers)) < 1e-4
    assert (stats["q1"], stats["q3"]) == (q1, q3)
    assert stats["outlier_count"] == 0 and stats["outliers"] == []


def test_outliers_by_iqr_with_row_numbers():
    """Values beyond 1.5 IQR from the quartiles are listed with their row in the range (header is row 1)."""
    values = [["v"], [10], [11], [12], [13], [11], [100], [-50]]
    stats = analyze_values(values)["profiles"][0]["numeric"]
    assert stats["outliers"] == [{"row": 7, "value": 100.0}, {"row": 8, "value": -50.0}]


def test_correlations_and_scatter_suggestion():
    """Perfect positive and negative correlations are found and sorted by strength; constants are skipped."""
    values = [["x", "y", "z", "c"], [1, 2, 10, 5], [2, 4, 8, 5], [3, 6, 7, 5], [4, 8, 1, 5]]
    stats = analyze_values(values)
    assert stats["correlations"][0] == {"columns": ["x", "y"], "r": 1.0, "pairs": 4}
    assert {tuple(c["columns"]) for c in stats["correlations"]} == {("x", "y"), ("x", "z"), ("y", "z")}
    assert stats["chart"]["type"] == "scatter" and stats["chart"]["x"] == "x"


def test_chart_suggestions_by_shape():
    """Categories plus numbers: pie for a few positive parts, column, or line for long series; one measure:
    histogram; no numbers: none."""
    few = [["k", "v"], ["a", 1], ["b", 2], ["c", 3]]
    assert analyze_values(few)["chart"]["type"] == "pie"
    assert analyze_values([["k", "v", "w"], *[[f"r{i}", i, i * 2] for i in range(10)]])["chart"]["type"] == "column"
    assert analyze_values([["k", "v"], *[[f"d{i}", i] for i in range(30)]])["chart"]["type"] == "line"
    assert analyze_values([["v"], [1], [2]])["chart"]["type"] == "histogram"
    assert analyze_values([["a"], ["b"]])["chart"]["type"] == "none"


def test_ragged_rows_and_no_header():
    """Short rows are padded as missing; without a header columns get generic names."""
    stats = analyze_values([[1, 2], [3]], header=False)
    assert stats["header"] is False and stats["rows"] == 2
    assert [p["name"] for p in stats["profiles"]] == ["Column 1", "Column 2"]
    assert stats["profiles"][1]["missing"] == 1


def test_numbers_stored_as_text_are_flagged_and_keep_the_header():
    """CSV imports leave numbers as text ("1200"): Excel warns about them, so do the statistics, and a header above
    such numbers is still a header (the narrative would otherwise report "Month" as a value)."""
    values = [["Month", "Sales"], ["Jan", "1,200"], ["Feb", "1350"], ["Mar", " 980.5 "], ["Apr", "n/a"]]
    stats = analyze_values(values)
    assert stats["header"] is True and stats["rows"] == 4
    month, sales = stats["profiles"]
    assert sales["name"] == "Sales" and sales["type"] == "text"
    assert sales["numbers_stored_as_text"] == 3
    assert "numbers_stored_as_text" not in month
    assert (
        "numbers_stored_as_text"
        not in analyze_values([["Code"], ["2024-01-05"], ["05/02/2024"], ["A-1"]])["profiles"][0]
    )


def test_header_detection_with_text_numbers():
    """Years as text can head columns; a column of numbers stored as text has no header of its own."""
    assert has_header_row([["Region", "2023", "2024"], ["North", 10, 12]])
    assert not has_header_row([["1200"], ["1350"], ["980"]])


def test_dates_by_number_format():
    """Numbers in a date format are dates: ordered by serial, shown as ISO text, left out of correlations; a date
    header cell names its column by its date; numbers in other formats stay numbers."""
    values = [[45292, "Sales", "Units"], [45352.5, 9, 1], [45292, 10, 2], [45323, 12, 3], [0, 11, 4]]
    formats = [["mmm yy"], ["yyyy-mm-dd h:mm"], ["yyyy-mm-dd"], ["yyyy-mm-dd", "0.00"], ["yyyy-mm-dd"]]
    stats = analyze_values(values, header=True, number_formats=formats)
    when = stats["profiles"][0]
    assert when["name"] == "2024-01-01"
    assert when["type"] == "mixed"  # the 0 is no date (Excel shows 1900-01-00): it stays a number
    assert when["dates"] == {"count": 3, "earliest": "2024-01-01", "latest": "2024-03-01T12:00", "distinct": 3}
    assert when["numeric"]["count"] == 1
    assert [c["columns"] for c in stats["correlations"]] == [["Sales", "Units"]]
    assert analyze_values(values, header=True)["profiles"][0]["type"] == "number"
