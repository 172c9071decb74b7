"""Clean data's native part: the cleaned table is checked, and the list of changes comes from a real cell diff."""

import json
from typing import Annotated, Any

from backend.skills.builtin.tables import cell_changes, check_rectangular, neutralize_formulas
from backend.skills.sdk import kernel_function


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
        """Rectangular cleaned table, formulas only where the input had them, and every change with its reason."""
        original = data["range"]["values"]
        input_formulas = {c for row in data["range"].get("formulas") or () for c in row if isinstance(c, str)}
        input_formulas |= {c for row in original for c in row if isinstance(c, str) and c.startswith("=")}
        table = neutralize_formulas(check_rectangular(output["table"]), input_formulas)
        reasons = {(c["row"], c["column"]): c["reason"] for c in output["changes"]}
        same_shape = len(table) == len(original) and all(len(a) == len(b) for a, b in zip(table, original, strict=True))
        if same_shape:
            changes = cell_changes(original, table, reasons)
        else:  # rows were removed or added: the model's own list is all there is
            changes = [{**c, "before": None, "after": None} for c in output["changes"]]
        return {"table": table, "changes": changes}
