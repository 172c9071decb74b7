"""Statistics of an Excel range, computed in Python so the model only narrates numbers it was given.

Per column: type, missing values, and for numbers the distribution (min, max, mean, median, stdev, quartiles) and
IQR outliers; for dates (numbers in a date or time format) the earliest and latest; for text the distinct values.
Across columns: Pearson correlations. Then a chart suggestion.
"""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass
from typing import Any

from backend.skills.excel_dates import DateSystem
from backend.skills.ranges import date_cells, date_system_of

MAX_OUTLIERS_LISTED = 10
MAX_TOP_VALUES = 5
MIN_PAIRS_FOR_CORRELATION = 3
# A number typed or imported as text: digits with grouping or decimal separators, a sign, maybe a percent sign.
_NUMERIC_TEXT = re.compile(r"[-+]?[0-9][0-9,. \u00a0']*%?")


@dataclass(frozen=True)
class CellDate:
    """A number shown as a date or time: its ISO 8601 text and its serial (which orders it)."""

    text: str
    serial: float


def _with_dates(values: list[list[Any]], number_formats: Any, date_system: DateSystem) -> list[list[Any]]:
    """The values with each number in a date or time format as a CellDate."""
    dated = list(date_cells(values, number_formats, date_system))
    if not dated:
        return values
    grid = [list(row) for row in values]
    for r, c, text in dated:
        grid[r][c] = CellDate(text, grid[r][c])
    return grid


def _is_missing(value: Any) -> bool:
    """Empty cells arrive from Office.js as "" (or null)."""
    return value is None or isinstance(value, str) and not value.strip()


def _kind(value: Any) -> str:
    """number, date, boolean or text."""
    if isinstance(value, CellDate):
        return "date"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return "text"


def is_numeric_text(value: Any) -> bool:
    """Text that is a number stored as text ("1200", "1,200.50", " 45% "): Excel flags such cells."""
    return isinstance(value, str) and _NUMERIC_TEXT.fullmatch(value.strip()) is not None


def has_header_row(values: list[list[Any]]) -> bool:
    """A first row of non-empty texts, not all of them numbers stored as text (years as headers are fine), above at
    least one row with a number (or a number stored as text) is a header."""
    if len(values) < 2 or not values[0]:
        return False
    first = values[0]
    first_is_text = all(isinstance(v, str) and v.strip() for v in first) and not all(map(is_numeric_text, first))
    below_has_other = any(
        _kind(v) != "text" or is_numeric_text(v) for row in values[1:] for v in row if not _is_missing(v)
    )
    return first_is_text and below_has_other


def _round(value: float) -> float:
    """Six significant digits: enough for a narrative, short in the prompt."""
    return float(f"{value:.6g}")


def numeric_summary(numbers: list[float], rows: list[int]) -> dict[str, Any]:
    """Distribution and IQR outliers of a column's numbers; rows are their 1-based row numbers in the range."""
    summary: dict[str, Any] = {"count": len(numbers), "min": min(numbers), "max": max(numbers)}
    summary["mean"] = _round(statistics.fmean(numbers))
    summary["median"] = _round(statistics.median(numbers))
    summary["stdev"] = _round(statistics.stdev(numbers)) if len(numbers) > 1 else 0.0
    if len(numbers) >= 4:
        q1, _, q3 = statistics.quantiles(numbers, n=4, method="inclusive")
        low, high = q1 - 1.5 * (q3 - q1), q3 + 1.5 * (q3 - q1)
        outliers = [{"row": r, "value": v} for v, r in zip(numbers, rows, strict=True) if v < low or v > high]
        summary.update(q1=_round(q1), q3=_round(q3), outlier_count=len(outliers))
        summary["outliers"] = outliers[:MAX_OUTLIERS_LISTED]
    return summary


def column_profile(name: str, cells: list[Any], first_row: int) -> dict[str, Any]:
    """Type, missing count and distribution of one column."""
    present = [(v, first_row + i) for i, v in enumerate(cells) if not _is_missing(v)]
    kinds = {_kind(v) for v, _ in present}
    kind = "empty" if not kinds else kinds.pop() if len(kinds) == 1 else "mixed"
    profile: dict[str, Any] = {"name": name, "type": kind, "count": len(cells), "missing": len(cells) - len(present)}
    numbers = [(float(v), r) for v, r in present if _kind(v) == "number"]
    if numbers:
        profile["numeric"] = numeric_summary([v for v, _ in numbers], [r for _, r in numbers])
    dates = sorted((v for v, _ in present if _kind(v) == "date"), key=lambda d: d.serial)
    if dates:
        profile["dates"] = {"count": len(dates), "earliest": dates[0].text, "latest": dates[-1].text}
        profile["dates"]["distinct"] = len({d.text for d in dates})
    texts = [str(v) for v, _ in present if _kind(v) == "text"]
    numeric_texts = sum(1 for text in texts if is_numeric_text(text))
    if numeric_texts:  # a data quality problem: these cells are left out of sums and of the distribution
        profile["numbers_stored_as_text"] = numeric_texts
    if texts:
        counts: dict[str, int] = {}
        for text in texts:
            counts[text] = counts.get(text, 0) + 1
        top = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:MAX_TOP_VALUES]
        profile["text"] = {"distinct": len(counts), "top": [{"value": v, "count": c} for v, c in top]}
    return profile


def correlations(columns: list[list[Any]], names: list[str]) -> list[dict[str, Any]]:
    """Pearson correlation of every pair of numeric columns over the rows where both are numbers."""
    found = []
    for i in range(len(columns)):
        for j in range(i + 1, len(columns)):
            pairs = [(a, b) for a, b in zip(columns[i], columns[j], strict=True) if _kind(a) == _kind(b) == "number"]
            if len(pairs) < MIN_PAIRS_FOR_CORRELATION:
                continue
            xs, ys = [float(a) for a, _ in pairs], [float(b) for _, b in pairs]
            if len(set(xs)) < 2 or len(set(ys)) < 2:
                continue  # a constant column has no correlation
            r = statistics.correlation(xs, ys)
            found.append({"columns": [names[i], names[j]], "r": _round(r), "pairs": len(pairs)})
    return sorted(found, key=lambda c: -abs(c["r"]))


def suggest_chart(profiles: list[dict[str, Any]], correlated: list[dict[str, Any]], rows: int) -> dict[str, Any]:
    """A chart that fits the data's shape: numbers over time, categories and numbers, two related numbers, or one
    distribution."""
    numeric = [p["name"] for p in profiles if p["type"] == "number"]
    labels = [p["name"] for p in profiles if p["type"] == "text"]
    dates = [p["name"] for p in profiles if p["type"] == "date"]
    if dates and numeric:
        return {"type": "line", "x": dates[0], "y": numeric, "reason": "numbers over time"}
    if labels and numeric:
        few = rows <= 6 and len(numeric) == 1 and all(p.get("numeric", {}).get("min", 0) >= 0 for p in profiles)
        kind = "pie" if few else "column" if rows <= 20 else "line"
        reason = "one category column and numbers to compare across categories"
        return {"type": kind, "x": labels[0], "y": numeric, "reason": reason}
    if len(numeric) >= 2:
        strongest = correlated[0]["columns"] if correlated else numeric[:2]
        reason = "two numeric columns whose relationship is the interesting part"
        return {"type": "scatter", "x": strongest[0], "y": [strongest[1]], "reason": reason}
    if len(numeric) == 1:
        return {"type": "histogram", "x": numeric[0], "y": [], "reason": "the distribution of a single measure"}
    return {"type": "none", "x": None, "y": [], "reason": "no numeric column to chart"}


def analyze_range(value: dict[str, Any], header: bool | None = None) -> dict[str, Any]:
    """The statistics of a range as the add-in sends it: its values, dates read with its `number_formats` in its
    workbook's date system."""
    return analyze_values(value["values"], header, value.get("number_formats"), date_system_of(value))


def analyze_values(
    values: list[list[Any]],
    header: bool | None = None,
    number_formats: list[list[Any]] | None = None,
    date_system: DateSystem = 1900,
) -> dict[str, Any]:
    """The full statistics of a 2D range: shape, column profiles, correlations and a chart suggestion; with the
    range's `number_formats`, numbers in a date or time format are dates (in that date system)."""
    width = max((len(row) for row in values), default=0)
    grid = [list(row) + [""] * (width - len(row)) for row in _with_dates(values, number_formats, date_system)]
    header = has_header_row(grid) if header is None else header
    names = (
        [v.text if isinstance(v, CellDate) else str(v) for v in grid[0]]
        if header and grid
        else [f"Column {i + 1}" for i in range(width)]
    )
    body = grid[1:] if header else grid
    columns = [[row[c] for row in body] for c in range(width)]
    first_row = 2 if header else 1
    profiles = [column_profile(names[c], columns[c], first_row) for c in range(width)]
    correlated = correlations(columns, names)
    return {
        "rows": len(body),
        "columns": width,
        "header": header,
        "profiles": profiles,
        "correlations": correlated,
        "chart": suggest_chart(profiles, correlated, len(body)),
    }
