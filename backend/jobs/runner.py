"""Running one job: steps stored as they finish (resume, never repeat), bounded fan-out, cancel, progress."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from backend.extensions import db
from backend.models import Job, JobStep, SkillRun
from backend.models.columns import utcnow

log = logging.getLogger(__name__)


@dataclass
class Step:
    """One model call of a job, named by a key that is the same every time the job is planned."""

    key: str
    payload: Any  # what the plan's caller needs to make the call (e.g. a ChatRequest)


@dataclass
class StepOutcome:
    """A finished step: its result (stored) and the metering of the call(s) it took (stored with it)."""

    result: Any
    runs: list[dict[str, Any]] = field(default_factory=list)


StepCaller = Callable[[Step], Awaitable[StepOutcome]]


class JobCancelled(Exception):
    """The owner cancelled the job."""


class StepFailed(Exception):
    """A step failed for good; the job fails, keeping the steps that finished."""

    def __init__(self, key: str, code: str, message: str) -> None:
        super().__init__(message)
        self.key = key
        self.code = code


class JobContext:
    """What a job plan uses: run steps (resuming stored ones), report progress, check for cancellation."""

    def __init__(self, job: Job, call: StepCaller, concurrency: int, run_async: Callable, iterate: Callable) -> None:
        self.job = job
        self._call = call
        self._concurrency = max(1, concurrency)
        self._run_async = run_async  # asyncbridge.run_sync
        self._iterate = iterate  # asyncbridge.iterate
        self._engine = db.engine

    def stored_results(self, keys: list[str]) -> dict[str, Any]:
        """Results already stored for these step keys (from an earlier, interrupted delivery)."""
        query = select(JobStep.key, JobStep.result).where(JobStep.job_id == self.job.id, JobStep.key.in_(keys))
        return dict(db.session.execute(query).all())

    def run_steps(self, steps: list[Step], progress_from: float, progress_to: float, stage: str) -> list[Any]:
        """Run the steps not yet stored, at most `concurrency` at once; results in the order of `steps`."""
        results = self.stored_results([s.key for s in steps])
        pending = [s for s in steps if s.key not in results]
        self.progress(progress_from + (progress_to - progress_from) * len(results) / max(1, len(steps)), stage)
        if pending:
            self.check_cancelled()
            for key, outcome in self._iterate(lambda: self._fan_out(pending)):
                self._store(key, outcome)
                results[key] = outcome.result
                done = len(results) / len(steps)
                self.progress(progress_from + (progress_to - progress_from) * done, stage)
                self.check_cancelled()
        return [results[s.key] for s in steps]

    async def _fan_out(self, steps: list[Step]) -> AsyncIterator[tuple[str, StepOutcome]]:
        """Run steps concurrently and yield each as it finishes; a cancel flag aborts the calls in flight."""
        gate = asyncio.Semaphore(self._concurrency)

        async def run(step: Step) -> tuple[str, StepOutcome]:
            async with gate:
                return step.key, await self._call(step)

        tasks = [asyncio.create_task(run(step)) for step in steps]
        watcher = asyncio.create_task(self._watch_cancel(tasks))
        try:
            for finished in asyncio.as_completed(tasks):
                yield await finished
        finally:
            watcher.cancel()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, watcher, return_exceptions=True)

    async def _watch_cancel(self, tasks: list[asyncio.Task]) -> None:
        """Poll the cancel flag; when set, cancel every call in flight (aborting their HTTP requests)."""
        while True:
            await asyncio.sleep(0.5)
            if await asyncio.to_thread(self._cancel_requested):
                for task in tasks:
                    task.cancel()
                return

    def _cancel_requested(self) -> bool:
        with self._engine.connect() as connection:
            return bool(connection.scalar(select(Job.cancel_requested).where(Job.id == self.job.id)))

    def _store(self, key: str, outcome: StepOutcome) -> None:
        """Store the step and its metering in one transaction, so a step is never metered twice."""
        db.session.add(JobStep(job_id=self.job.id, tenant_id=self.job.tenant_id, key=key, result=outcome.result))
        for run in outcome.runs:
            db.session.add(SkillRun(tenant_id=self.job.tenant_id, user_id=self.job.user_id, job_id=self.job.id, **run))
        try:
            db.session.commit()
        except IntegrityError:
            # Another delivery of this job stored the step first; its metering stands, ours is dropped.
            db.session.rollback()
            log.warning("job step stored twice; keeping the first", extra={"job_id": self.job.id, "step": key})

    def check_cancelled(self) -> None:
        """Raise JobCancelled when the owner asked to cancel."""
        if self._cancel_requested():
            raise JobCancelled()

    def progress(self, fraction: float, stage: str) -> None:
        """Store progress (0..1) and the stage message, without touching the rest of the row."""
        values = {"progress": min(max(fraction, 0.0), 1.0), "stage": stage[:200], "updated_at": utcnow()}
        db.session.execute(update(Job).where(Job.id == self.job.id).values(**values))
        db.session.commit()


def elapsed_ms(started: float) -> int:
    """Milliseconds since a perf_counter reading."""
    return int((time.perf_counter() - started) * 1000)
