"""Clean data's native part: the cleaned table is checked, and the list of changes comes from a real cell diff.

The model reads date and time cells as ISO 8601 text (`values_as_shown`); the diff compares
what it read with what it answered, and a date cell goes back into Excel as its serial number in the workbook's date
system, so the cell keeps its date format and an unchanged date keeps its exact value.
"""

import json
from typing import Annotated, Any

from backend.skills.builtin.tables import cell_changes, check_rectangular, empty_cells_blank, neutralize_formulas
from backend.skills.sdk import (
    DateSystem,
    as_typed_text,
    date_system_of,
    iso_to_serial,
    kernel_function,
    values_as_shown,
)


def formula_cells(data: dict[str, Any]) -> dict[tuple[int, int], str]:
    """The input's cells that hold a formula, by 0-based (row, column)."""
    formulas = data["range"].get("formulas") or ()
    return {
        (r, c): cell
        for r, row in enumerate(formulas)
        for c, cell in enumerate(row if isinstance(row, list) else ())
        if isinstance(cell, str) and cell.startswith("=")
    }


def stored_value(original: Any, shown: Any, cleaned: Any, date_system: DateSystem) -> Any:
    """What to write for a cell the model read as `shown` (its `original` value, or a date's ISO text) and answered
    as `cleaned`: an unchanged cell's original value; a date cell's new ISO text as its serial number in the
    workbook's date system; new ISO date-time text as Excel reads typed text (else it would stay text)."""
    if cleaned == shown:
        return original
    is_date_cell = isinstance(shown, str) and not isinstance(original, str)
    serial = iso_to_serial(cleaned, date_system) if is_date_cell else None
    return as_typed_text(cleaned) if serial is None else serial


class CleanDataPlugin:
    """Validates the model's cleaned table and derives the exact changes from it."""

    @kernel_function(name="diff_tables", description="List the cells that differ between two equally shaped tables.")
    def diff(
        self,
        before: Annotated[str, "JSON 2D array, the original"],
        after: Annotated[str, "JSON 2D array, the cleaned one"],
    ) -> Annotated[str, "JSON list of changes"]:
        """SK entry point of cell_changes."""
        return json.dumps(cell_changes(json.loads(before), json.loads(after), {}))

    def finish(self, output: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
        """Rectangular cleaned table, formulas only where the input had them, and every change with its reason.

        The table is written back over the range: cells that hold a formula keep it (a computed value is never
        replaced by a constant), and empty cells are "" (Office.js leaves a cell written null unchanged)."""
        original = empty_cells_blank(data["range"]["values"])
        shown = empty_cells_blank(values_as_shown(data["range"])[0])
        formulas = formula_cells(data)
        input_formulas = set(formulas.values())
        input_formulas |= {c for row in original for c in row if isinstance(c, str) and c.startswith("=")}
        table = empty_cells_blank(neutralize_formulas(check_rectangular(output["table"]), input_formulas))
        reasons = {(c["row"], c["column"]): c["reason"] for c in output["changes"]}
        same_shape = len(table) == len(original) and all(len(a) == len(b) for a, b in zip(table, original, strict=True))
        if not same_shape:  # rows were removed or added: the model's own list is all there is
            table = [[as_typed_text(cell) for cell in row] for row in table]  # ISO dates: Excel parses
            return {"table": table, "changes": [{**c, "before": None, "after": None} for c in output["changes"]]}
        for r, c in formulas:
            if r < len(table) and c < len(table[r]):
                table[r][c] = shown[r][c]  # computed: unchanged in the diff...
        changes = cell_changes(shown, table, reasons)
        date_system = date_system_of(data["range"])
        table = [
            [stored_value(*cells, date_system) for cells in zip(old_row, shown_row, new_row, strict=True)]
            for old_row, shown_row, new_row in zip(original, shown, table, strict=True)
        ]
        for (r, c), formula in formulas.items():
            if r < len(table) and c < len(table[r]):
                table[r][c] = formula  # ...and written back as the formula it is
        return {"table": table, "changes": changes}
