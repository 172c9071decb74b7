"""Analyze range's native part: the statistics are computed here; the model only writes the narrative."""

import json
from typing import Annotated, Any

from backend.skills.builtin.range_stats import analyze_range, analyze_values
from backend.skills.sdk import kernel_function


def _statistics(data: dict[str, Any]) -> dict[str, Any]:
    """The statistics of the input's range."""
    return analyze_range(data["range"], data.get("has_headers"))


class AnalyzeRangePlugin:
    """Computes column statistics, correlations and a chart suggestion for a range."""

    @kernel_function(name="range_statistics", description="Statistics of a 2D range of cell values.")
    def statistics(
        self, values: Annotated[str, "JSON array of rows of cell values; the first row may be a header"]
    ) -> Annotated[str, "JSON statistics"]:
        """SK entry point of analyze_values."""
        return json.dumps(analyze_values(json.loads(values)))

    def prepare(self, data: dict[str, Any]) -> dict[str, Any]:
        """Template variables: the statistics, and the address (cut to a sane length)."""
        return {"statistics": _statistics(data), "address": str(data["range"].get("address", ""))[:300]}

    def finish(self, narrative: str, data: dict[str, Any]) -> dict[str, Any]:
        """The output: the exact statistics, the chart suggestion, and the model's narrative."""
        statistics = _statistics(data)
        return {"statistics": statistics, "chart": statistics["chart"], "narrative": narrative}
