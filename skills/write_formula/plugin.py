"""Write formula's native part: the model's formula must parse, or the model is asked once to repair it."""

import json
from typing import Annotated, Any

from backend.skills.builtin.formula import FormulaSyntaxError, formula_summary, parse_formula
from backend.skills.sdk import OutputInvalid, kernel_function


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
        """The formula (with a leading '='), its summary and explanation; OutputInvalid if it does not parse."""
        formula = output["formula"].strip()
        if not formula.startswith("="):
            formula = "=" + formula
        try:
            tree = parse_formula(formula)
        except FormulaSyntaxError as exc:
            # The repair turn quotes the formula; the caller's error body must not (it is made from the document).
            problem = f"the formula {formula!r} does not parse: {exc}"
            raise OutputInvalid(problem, public="the formula does not parse") from None
        return {"formula": formula, "explanation": output["explanation"], "summary": formula_summary(tree)}
