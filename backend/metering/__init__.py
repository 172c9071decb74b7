"""Metering and accounting: usage records, monthly budgets and per-minute rate limits, shared across replicas."""
