"""Excel ranges as the add-in sends them: `{address, values, formulas?}` read from Office.js.

Office.js fills `formulas` for every cell, repeating the constant of each cell that holds no formula; only the
cells that really hold a formula (text starting with '=') carry information beyond `values`.
"""

from __future__ import annotations

import re
from typing import Any

from backend.skills.builtin.formula_tokens import column_number

_TOP_LEFT = re.compile(r"\$?(?P<column>[A-Za-z]{1,3})?\$?(?P<row>[0-9]+)?")


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


def without_formulas(value: dict[str, Any]) -> dict[str, Any]:
    """The range without its `formulas` array."""
    return {k: v for k, v in value.items() if k != "formulas"}
