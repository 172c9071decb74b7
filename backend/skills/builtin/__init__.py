"""Deterministic helpers of the built-in skills: formula parsing, range statistics, edits and tables."""
