"""The accounting of one model call in progress: its routing decision, budget hold and timings, finished once."""

from __future__ import annotations

import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask import Flask

from backend.metering.budgets import Reservation
from backend.metering.call_metrics import count_call
from backend.metering.usage import RunRecord, record_run
from backend.providers.base import ModelSpec, Usage
from backend.routing.router import RoutingDecision


@dataclass
class CallAccounting:
    """The accounting of one call in progress; `finish` settles the budget and records the SkillRun exactly once."""

    app: Flask
    request: Any  # backend.dispatch.DispatchRequest: who, which skill, which job
    decision: RoutingDecision
    hold: Reservation
    budgets: Any
    run_id: str
    started: float
    catalog: Any = None  # backend.catalog.Catalog of the tenant: the labels of the call's metrics
    streamed: bool = False
    first_token: float | None = None
    finished: bool = False

    def finish(self, model: ModelSpec | None, usage: Usage | None, outcome: str, error_code: str | None) -> Decimal:
        """Settle the hold with the real cost, record the run and count it in the metrics; later calls do nothing."""
        request, now = self.request, time.monotonic()
        ttft = None if self.first_token is None else int((self.first_token - self.started) * 1000)
        record = RunRecord(request.tenant_id, request.user_id, request.skill_id, model=model, usage=usage,
                           outcome=outcome, error_code=error_code, routing=self.decision.to_json(),
                           job_id=request.job_id, latency_ms=int((now - self.started) * 1000),
                           time_to_first_token_ms=ttft)  # fmt: skip
        if self.finished:
            return record.cost_usd
        self.finished = True
        # The SkillRun first, then the settlement, each committed on its own (a transaction around both kept the
        # tenant's budget row locked across a round trip). Should the process die between the two, the run is
        # recorded and its hold, which is at least its cost, stays reserved until its window passes (budgets.py).
        # Should the record fail (a database hiccup), the hold is settled all the same.
        try:
            record_run(self.budgets.engine, record, self.run_id)
        finally:
            self.budgets.settle(self.hold, record.cost_usd)
            count_call(self, model, outcome, error_code, now)
        return record.cost_usd
