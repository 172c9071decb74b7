"""Text to table's native part: the table must be rectangular with a header row."""

import json
from typing import Annotated, Any

from backend.skills.builtin.tables import check_header, check_rectangular, neutralize_formulas
from backend.skills.sdk import OutputInvalid, kernel_function


class TextToTablePlugin:
    """Validates the model's table before it is written to the sheet."""

    @kernel_function(name="check_table", description="Check a 2D array is rectangular with a header row.")
    def check(self, table: Annotated[str, "JSON 2D array"]) -> Annotated[str, "'ok' or the problem"]:
        """SK entry point of the table checks."""
        try:
            check_header(check_rectangular(json.loads(table)))
        except OutputInvalid as exc:
            return str(exc)
        return "ok"

    def finish(self, output: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
        """The checked table, with any text that Excel would read as a formula stored as text."""
        table = check_rectangular(output["table"])
        check_header(table)
        return {"table": neutralize_formulas(table)}
