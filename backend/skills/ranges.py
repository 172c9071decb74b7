"""Excel ranges as the add-in sends them: `{address, values, formulas?, number_formats?, date_system?}` read from
Office.js.

Office.js fills `formulas` for every cell, repeating the constant of each cell that holds no formula; only the
cells that really hold a formula (text starting with '=') carry information beyond `values`. `number_formats` is sent
only when some number shows as a date or a time: row by row, the formats of those cells, null for the cells between
them; trailing cells and rows without one are left out. `date_system` is 1904 for a workbook in the 1904 date
system, and 1900 (the default) when absent. The model sees such a cell as ISO 8601 text, never as Excel's serial
number.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from backend.skills import excel_dates
from backend.skills.builtin.formula_tokens import column_number
from backend.skills.excel_dates import DATE_SYSTEMS, DateSystem

_TOP_LEFT = re.compile(r"\$?(?P<column>[A-Za-z]{1,3})?\$?(?P<row>[0-9]+)?")
# What the model never reads of a range: formulas are listed apart, and formats and date system are shown as dates.
_NOT_SHOWN = ("formulas", "number_formats", "date_system")


def is_range(value: Any) -> bool:
    """Whether a value has the shape of an Excel range: a mapping with a `values` list."""
    return isinstance(value, dict) and isinstance(value.get("values"), list)


def column_letters(number: int) -> str:
    """Column letters of a 1-based column number (1=A, 27=AA)."""
    letters = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def top_left(address: Any) -> tuple[int, int] | None:
    """1-based (column, row) of a range address's first cell ("Sheet1!B2:D9" -> (2, 2); "A:C" -> (1, 1))."""
    if not isinstance(address, str) or not address:
        return None
    first = address.rpartition("!")[2].split(":")[0]
    match = _TOP_LEFT.fullmatch(first)
    if not first or match is None:
        return None
    column, row = match.group("column"), match.group("row")
    return (column_number(column) if column else 1, int(row) if row else 1)


def formula_cells(value: dict[str, Any]) -> list[tuple[str, str]]:
    """The cells of a range that hold a formula, as (A1 address, formula); "row r, column c" (0-based) when the
    range's address cannot be read."""
    origin = top_left(value.get("address"))
    cells = []
    for r, row in enumerate(value.get("formulas") or ()):
        for c, cell in enumerate(row if isinstance(row, list) else ()):
            if isinstance(cell, str) and cell.startswith("="):
                where = f"{column_letters(origin[0] + c)}{origin[1] + r}" if origin else f"row {r}, column {c}"
                cells.append((where, cell))
    return cells


def date_system_of(value: dict[str, Any]) -> DateSystem:
    """The date system of a range's workbook: 1904 when the range says so, else 1900 (the default)."""
    return 1904 if value.get("date_system") == 1904 else 1900


def date_cells(
    values: list[Any], number_formats: Any, date_system: DateSystem = 1900
) -> Iterator[tuple[int, int, str]]:
    """(row, column, ISO 8601 text) of every number the range shows as a date or a time ("2024-01-01",
    "2024-01-01T09:30", "09:30"), from its `number_formats` and its workbook's date system (a serial no date can hold
    is left out)."""
    if not isinstance(number_formats, list):
        return
    for r, (row, row_formats) in enumerate(zip(values, number_formats, strict=False)):
        if not isinstance(row, list) or not isinstance(row_formats, list):
            continue
        for c, number_format in enumerate(row_formats[: len(row)]):
            if excel_dates.is_date_format(number_format):
                text = excel_dates.serial_to_iso(row[c], excel_dates.format_kind(number_format), date_system)
                if text is not None:
                    yield r, c, text


def values_as_shown(value: dict[str, Any]) -> tuple[list[list[Any]], bool]:
    """The range's values with every number in a date or time format as its ISO 8601 text, and whether there was any
    such cell."""
    values = value["values"]
    dated = list(date_cells(values, value.get("number_formats"), date_system_of(value)))
    if not dated:
        return values, False
    shown = [list(row) if isinstance(row, list) else row for row in values]
    for r, c, text in dated:
        shown[r][c] = text
    return shown, True


def as_shown(value: dict[str, Any]) -> dict[str, Any]:
    """The range as the model reads it: without `formulas`, `number_formats` and `date_system`, dates as ISO 8601
    text."""
    shown = {k: v for k, v in value.items() if k not in _NOT_SHOWN}
    shown["values"] = values_as_shown(value)[0]
    return shown


def range_problems(data: Any, path: str = "") -> list[dict[str, str]]:
    """Every range in an input (at any depth: `range`, `sheets/0/range`) whose `number_formats` does not fit its
    `values` (at most as many rows, each at most as long as its row of values), or whose `date_system` is neither
    1900 nor 1904, as {field, message} never quoting the input."""
    problems = []
    if isinstance(data, dict):
        if is_range(data):
            formats = data.get("number_formats")
            if isinstance(formats, list) and not _fits(formats, data["values"]):
                field = f"{path}/number_formats".removeprefix("/")
                message = "must not have more rows than values, nor a row longer than its row of values"
                problems.append({"field": field, "message": message})
            system = data.get("date_system")
            if "date_system" in data and (isinstance(system, bool) or system not in DATE_SYSTEMS):
                problems.append({"field": f"{path}/date_system".removeprefix("/"), "message": "must be 1900 or 1904"})
            return problems
        for key, item in data.items():
            problems += range_problems(item, f"{path}/{key}")
    elif isinstance(data, list):
        for n, item in enumerate(data):
            if isinstance(item, dict):
                problems += range_problems(item, f"{path}/{n}")
    return problems


def _fits(formats: list[Any], values: list[Any]) -> bool:
    """Whether a 2D array of formats lies within the 2D array of values (the pane leaves out trailing cells and rows
    without a date)."""
    if len(formats) > len(values):
        return False
    return all(
        isinstance(f, list) and isinstance(v, list) and len(f) <= len(v) for f, v in zip(formats, values, strict=False)
    )
