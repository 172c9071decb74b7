"""Write formula's native part: the model's formula must parse and must not read the cell it goes into, or the
model is asked once to repair it."""

import json
import re
from typing import Annotated, Any

from backend.skills.builtin.formula import FormulaSyntaxError, formula_summary, parse_formula, refers_to_cell
from backend.skills.builtin.formula_tokens import column_number
from backend.skills.sdk import OutputInvalid, kernel_function

_CELL = re.compile(r"\$?(?P<column>[A-Za-z]{1,3})\$?(?P<row>[0-9]+)")


def target_of(data: dict[str, Any]) -> tuple[str | None, str, int, int] | None:
    """Where the formula goes: (sheet, cell, column, row), the sheet from the target or else the range's address;
    None without a target cell (a range target counts by its first cell)."""
    sheet, _, cell = str(data.get("target_cell") or "").strip().rpartition("!")
    match = _CELL.fullmatch(cell.split(":")[0])
    if match is None:
        return None
    if not sheet:
        sheet = str((data.get("range") or {}).get("address") or "").rpartition("!")[0]
    if sheet.startswith("'") and sheet.endswith("'") and len(sheet) > 1:
        sheet = sheet[1:-1].replace("''", "'")
    label = f"{match['column'].upper()}{match['row']}"
    return sheet or None, label, column_number(match["column"]), int(match["row"])


class WriteFormulaPlugin:
    """Validates the proposed formula by parsing it."""

    @kernel_function(name="check_formula", description="Parse a formula; report its functions and references.")
    def check(self, formula: Annotated[str, "The formula to check"]) -> Annotated[str, "JSON summary or error"]:
        """SK entry point: the summary, or the syntax error."""
        try:
            return json.dumps(formula_summary(parse_formula(formula)))
        except FormulaSyntaxError as exc:
            return json.dumps({"error": str(exc)})

    def finish(self, output: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
        """The formula (with a leading '='), its summary and explanation; OutputInvalid if it does not parse or
        reads its own cell (Excel refuses to compute a circular reference)."""
        formula = output["formula"].strip()
        if not formula.startswith("="):
            formula = "=" + formula
        try:
            tree = parse_formula(formula)
        except FormulaSyntaxError as exc:
            # The repair turn quotes the formula; the caller's error body must not (it is made from the document).
            problem = f"the formula {formula!r} does not parse: {exc}"
            raise OutputInvalid(problem, public="the formula does not parse") from None
        target = target_of(data)
        if target is not None and refers_to_cell(tree, target[0], target[2], target[3]):
            problem = f"the formula goes into {target[1]} but refers to {target[1]} itself (a circular reference)"
            raise OutputInvalid(problem, public="the formula refers to the cell it goes into (a circular reference)")
        return {"formula": formula, "explanation": output["explanation"], "summary": formula_summary(tree)}
