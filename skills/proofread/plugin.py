"""Proofread's native part: edits are located in the input text, so offsets are exact before the add-in uses them."""

import json
from typing import Annotated, Any

from backend.skills.builtin.edits import apply_edits, locate_edits
from backend.skills.sdk import kernel_function


class ProofreadPlugin:
    """Checks the model's edits against the text they claim to correct."""

    @kernel_function(name="locate_edits", description="Keep the edits that match the text, with exact offsets.")
    def locate(
        self,
        text: Annotated[str, "The proofread text"],
        edits: Annotated[str, "JSON array of {original, replacement, reason, start?}"],
    ) -> Annotated[str, "JSON array of located edits"]:
        """SK entry point of locate_edits."""
        return json.dumps(locate_edits(text, json.loads(edits)))

    @kernel_function(name="apply_edits", description="Apply located edits to the text.")
    def apply(
        self,
        text: Annotated[str, "The original text"],
        edits: Annotated[str, "JSON array of located edits"],
    ) -> Annotated[str, "The corrected text"]:
        """SK entry point of apply_edits."""
        return apply_edits(text, json.loads(edits))

    def finish(self, output: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
        """Only edits whose original really is in the text, at its real offsets."""
        return {"edits": locate_edits(data["text"], output["edits"])}
