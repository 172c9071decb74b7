"""2D arrays for Excel: checked rectangular, with a real header row where one is required, safe to write back."""

from __future__ import annotations

from typing import Any

from backend.skills.structured import OutputInvalid


def check_rectangular(table: Any) -> list[list[Any]]:
    """The table if it is a non-empty list of equally long rows of scalars, else OutputInvalid saying why."""
    if not isinstance(table, list) or not table or not all(isinstance(row, list) for row in table):
        raise OutputInvalid("the table must be a non-empty array of rows (arrays)")
    widths = {len(row) for row in table}
    if len(widths) != 1 or 0 in widths:
        raise OutputInvalid(f"every row must have the same, non-zero number of cells (found widths {sorted(widths)})")
    for row in table:
        for cell in row:
            if isinstance(cell, dict | list):
                raise OutputInvalid("cells must be strings, numbers, booleans or null")
    return table


def check_header(table: list[list[Any]]) -> None:
    """The first row must name every column, each name once."""
    header = table[0]
    if not all(isinstance(cell, str) and cell.strip() for cell in header):
        raise OutputInvalid("the first row must be a header: a non-empty text for every column")
    if len({cell.strip().lower() for cell in header}) != len(header):
        raise OutputInvalid("the header row must not repeat a column name")


def empty_cells_blank(table: list[list[Any]]) -> list[list[Any]]:
    """null cells as "": Office.js clears a cell written "" but leaves one written null as it was, so a table with
    nulls written over a range would keep stale values (and reads empty cells back as "")."""
    return [["" if cell is None else cell for cell in row] for row in table]


def neutralize_formulas(table: list[list[Any]], allowed: set[str] = frozenset()) -> list[list[Any]]:
    """Prefix text starting with '=' with an apostrophe so Excel stores it as text, not a formula (a formula such
    as =WEBSERVICE(...) written back from model output could send data out); formulas in `allowed` stay."""
    return [
        [f"'{cell}" if isinstance(cell, str) and cell.startswith("=") and cell not in allowed else cell for cell in row]
        for row in table
    ]


def cell_changes(before: list[list[Any]], after: list[list[Any]], reasons: dict[tuple[int, int], str]) -> list[dict]:
    """Every cell that differs between two tables of the same shape: 0-based row and column, before, after, reason."""
    changes = []
    for r, (old_row, new_row) in enumerate(zip(before, after, strict=True)):
        for c, (old, new) in enumerate(zip(old_row, new_row, strict=True)):
            if old != new:
                changes.append({"row": r, "column": c, "before": old, "after": new, "reason": reasons.get((r, c), "")})
    return changes
