"""Text to table's native part: the text comes from the input or the selected cells; the table must be rectangular
with a header row."""

import json
from typing import Annotated, Any

from backend.skills.builtin.tables import check_header, check_rectangular, empty_cells_blank, neutralize_formulas
from backend.skills.sdk import OutputInvalid, as_typed_text, kernel_function, values_as_shown


def text_of(data: dict[str, Any]) -> str:
    """The text to tabulate: the `text` field, else the selected cells' text, one line per row, cells by tabs (a
    date or time cell as ISO 8601 text, not as Excel's serial number)."""
    if data.get("text"):
        return data["text"]
    selected = data.get("range")
    rows = (
        values_as_shown(selected)[0] if isinstance(selected, dict) and isinstance(selected.get("values"), list) else ()
    )
    lines = ["\t".join(text for text in map(_cell_text, row) if text) for row in rows]
    return "\n".join(line for line in lines if line)


def _cell_text(cell: Any) -> str:
    """A cell's value as text (0 and FALSE are values; null and blanks are not)."""
    return "" if cell is None else str(cell).strip()


class TextToTablePlugin:
    """Reads the text from the selected cells when there is no `text`; validates the table before it is written."""

    @kernel_function(name="check_table", description="Check a 2D array is rectangular with a header row.")
    def check(self, table: Annotated[str, "JSON 2D array"]) -> Annotated[str, "'ok' or the problem"]:
        """SK entry point of the table checks."""
        try:
            check_header(check_rectangular(json.loads(table)))
        except OutputInvalid as exc:
            return str(exc)
        return "ok"

    def check_input(self, data: dict[str, Any]) -> list[dict[str, str]]:
        """Selected cells without any text: nothing to make a table from (422, before any model is paid for)."""
        if text_of(data):
            return []
        return [
            {"field": "range", "message": "holds no text: select the cells that hold the text to turn into a table"}
        ]

    def prepare(self, data: dict[str, Any]) -> dict[str, Any]:
        """Template variables: the text, wherever it came from."""
        return {"text": text_of(data)}

    def finish(self, output: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
        """The checked table: unknown values written as empty cells, text Excel would read as a formula as text, ISO
        date-times as Excel reads typed dates (written as text, "2024-01-05" becomes a date cell)."""
        table = check_rectangular(output["table"])
        check_header(table)
        table = [[as_typed_text(cell) for cell in row] for row in empty_cells_blank(table)]
        return {"table": neutralize_formulas(table)}
