"""Explain formula's native part: the formula is parsed in Python and its structure given to the model."""

import json
from typing import Annotated, Any

from backend.skills.builtin.formula import FormulaSyntaxError, formula_summary, parse_formula
from backend.skills.sdk import kernel_function


def formula_of(data: dict[str, Any]) -> str:
    """The formula to explain: the `formula` field, else the first formula in the range's formulas."""
    if data.get("formula"):
        return data["formula"]
    for row in (data.get("range") or {}).get("formulas") or ():
        for cell in row:
            if isinstance(cell, str) and cell.startswith("="):
                return cell
    return ""


def analyze_formula(formula: str) -> dict[str, Any]:
    """The formula's tree and summary, or the syntax error with its position."""
    try:
        tree = parse_formula(formula)
    except FormulaSyntaxError as exc:
        return {"structure": None, "summary": None, "syntax_error": {"message": exc.reason, "position": exc.position}}
    return {"structure": tree, "summary": formula_summary(tree), "syntax_error": None}


class ExplainFormulaPlugin:
    """Parses the formula before the model explains it, and returns the structure with the explanation."""

    @kernel_function(name="parse_formula", description="Parse an Excel formula into its syntax tree.")
    def parse(self, formula: Annotated[str, "The formula, with or without the leading '='"]) -> Annotated[str, "JSON"]:
        """SK entry point: the analysis as JSON."""
        return json.dumps(analyze_formula(formula))

    def check_input(self, data: dict[str, Any]) -> list[dict[str, str]]:
        """A selection without any formula has nothing to explain (422, before any model is paid for)."""
        if formula_of(data):
            return []
        return [{"field": "range", "message": "holds no formula: select a cell with a formula, or send the formula"}]

    def prepare(self, data: dict[str, Any]) -> dict[str, Any]:
        """Template variables: the formula and its parsed structure."""
        formula = formula_of(data)
        return {"formula": formula, "structure": analyze_formula(formula)}

    def finish(self, explanation: str, data: dict[str, Any]) -> dict[str, Any]:
        """The output: the formula, its structure, and the model's explanation."""
        formula = formula_of(data)
        return {"formula": formula, **analyze_formula(formula), "explanation": explanation}
