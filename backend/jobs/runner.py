"""Running one job: steps stored as they finish (resume, never repeat), bounded fan-out, cancel, progress."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, case, literal, select, update
from sqlalchemy.exc import IntegrityError

from backend.extensions import db
from backend.jobs.outcome import job_usage
from backend.jobs.store import TERMINAL
from backend.models import Job, JobStep, SkillRun
from backend.models.columns import utcnow

log = logging.getLogger(__name__)
CANCEL_POLL_SECONDS = 0.5  # how quickly a cancel reaches the calls in flight
# Room left in a call for the prompt's own text and the answer: a chunk, and the summaries one reduce combines.
CHUNK_TOKENS = 3000
REDUCE_INPUT_TOKENS = 6000
RUNNING_PROGRESS_MAX = 0.99  # what a running job reports at most: 1.0 means it succeeded


@dataclass
class Step:
    """One model call of a job, named by a key that is the same every time the job is planned."""

    key: str
    payload: Any  # what the plan's caller needs to make the call (e.g. a ChatRequest)


@dataclass
class StepOutcome:
    """A finished step: its result (stored), the metering of the call(s) it took and their budget settlements (run
    with it, in the same transaction: a worker dying before it commits leaves neither, and the step runs again)."""

    result: Any
    runs: list[dict[str, Any]] = field(default_factory=list)
    settlements: list[Callable[[Connection], None]] = field(default_factory=list)
    cut_off: bool = False  # the model reached the call's output limit: the result ends where it was stopped


# How a step whose answer the output limit cut off is stored: {"cut_off": result}, so a resumed job knows it too.
CUT_OFF = "cut_off"


def stored_form(outcome: StepOutcome) -> Any:
    """What the JobStep row keeps of a step's outcome."""
    return {CUT_OFF: outcome.result} if outcome.cut_off else outcome.result


def loaded_form(stored: Any) -> tuple[Any, bool]:
    """A JobStep row's result, and whether the output limit cut it off."""
    if isinstance(stored, dict) and stored.keys() == {CUT_OFF}:
        return stored[CUT_OFF], True
    return stored, False


StepCaller = Callable[[Step], Awaitable[StepOutcome]]


class JobCancelled(Exception):
    """The owner cancelled the job."""


class StepFailed(Exception):
    """A step failed for good; the job fails, keeping the steps that finished."""

    def __init__(self, key: str, code: str, message: str, details: dict[str, Any] | None = None) -> None:
        """A failure of step `key` with the contract's error code, a message for a person, and optional details
        (no key, no document text)."""
        super().__init__(message)
        self.key = key
        self.code = code
        self.details = details


class JobContext:
    """What a job plan uses: run steps (resuming stored ones), report progress, check for cancellation."""

    def __init__(self, job: Job, call: StepCaller, concurrency: int, iterate: Callable) -> None:
        """A context for `job` whose steps go through `call`, at most `concurrency` at once, on the bridge loop."""
        self.job = job
        self._call = call
        self._concurrency = max(1, concurrency)
        self._iterate = iterate  # asyncbridge.iterate: the fan-out runs on the process's one asyncio loop
        self._engine = db.engine
        self.chunk_tokens = CHUNK_TOKENS
        self.reduce_tokens = REDUCE_INPUT_TOKENS
        self.cut_off: set[str] = set()  # keys of the steps whose answer the output limit cut off

    def stored_results(self, keys: list[str]) -> dict[str, Any]:
        """Results already stored for these step keys (from an earlier, interrupted delivery)."""
        query = select(JobStep.key, JobStep.result).where(JobStep.job_id == self.job.id, JobStep.key.in_(keys))
        results = {}
        for key, stored in db.session.execute(query).all():
            results[key], cut_off = loaded_form(stored)
            if cut_off:
                self.cut_off.add(key)
        return results

    def run_steps(self, steps: list[Step], progress_from: float, progress_to: float, stage: str) -> list[Any]:
        """Run the steps not yet stored, at most `concurrency` at once; results in the order of `steps`."""
        results = self.stored_results([s.key for s in steps])
        pending = [s for s in steps if s.key not in results]
        self.progress(progress_from + (progress_to - progress_from) * len(results) / max(1, len(steps)), stage)
        if pending:
            self.check_cancelled()
            outcomes = self._iterate(lambda: self._fan_out(pending))
            try:
                for key, outcome in outcomes:
                    done = (len(results) + 1) / len(steps)
                    self._store(key, outcome, progress_from + (progress_to - progress_from) * done, stage)
                    results[key] = outcome.result
                    if outcome.cut_off:
                        self.cut_off.add(key)
            finally:
                outcomes.close()  # after a failure here too: stop the calls still in flight
        return [results[s.key] for s in steps]

    async def _fan_out(self, steps: list[Step]) -> AsyncIterator[tuple[str, StepOutcome]]:
        """Run steps concurrently and yield each as it finishes; a cancel flag aborts the calls in flight."""
        gate = asyncio.Semaphore(self._concurrency)

        async def run(step: Step) -> tuple[str, StepOutcome]:
            """One call, once a slot is free."""
            async with gate:
                return step.key, await self._call(step)

        tasks = [asyncio.create_task(run(step)) for step in steps]
        watcher = asyncio.create_task(self._watch_cancel(tasks))
        try:
            for finished in asyncio.as_completed(tasks):
                try:
                    outcome = await finished
                except asyncio.CancelledError:
                    # The watcher cancelled our calls (this generator itself was not cancelled): the job stops.
                    if watcher.done() and not watcher.cancelled():
                        raise JobCancelled() from None
                    raise
                yield outcome
        finally:
            watcher.cancel()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, watcher, return_exceptions=True)

    async def _watch_cancel(self, tasks: list[asyncio.Task]) -> None:
        """Poll the cancel flag; when set, cancel every call in flight (aborting their HTTP requests)."""
        while True:
            await asyncio.sleep(CANCEL_POLL_SECONDS)
            if await asyncio.to_thread(self._cancel_requested):
                for task in tasks:
                    task.cancel()
                return

    def _cancel_requested(self) -> bool:
        """A fresh read of the cancel flag on a connection of its own (callable from any thread)."""
        with self._engine.connect() as connection:
            return bool(connection.scalar(select(Job.__table__.c.cancel_requested).where(Job.id == self.job.id)))

    def _store(self, key: str, outcome: StepOutcome, progress: float, stage: str) -> None:
        """Store the step, its metering, the job's usage so far, its budget settlement and the progress in one
        transaction, so a step is never metered or charged twice, nor charged without its usage record."""
        db.session.add(JobStep(job_id=self.job.id, tenant_id=self.job.tenant_id, key=key, result=stored_form(outcome)))
        try:
            db.session.flush()
        except IntegrityError:
            # Another delivery of this job stored the step first: ours is dropped, but its call was made and is paid.
            db.session.rollback()
            log.warning("job step stored twice; keeping the first", extra={"job_id": self.job.id, "step": key})
            self._meter(outcome, {"updated_at": utcnow()})
            db.session.commit()
            return
        self._meter(outcome, progress_values(progress, stage))
        db.session.commit()

    def _meter(self, outcome: StepOutcome, job_values: dict[str, Any]) -> None:
        """Add the SkillRuns of the step's calls, store them in the job's usage so far along with `job_values`, and
        settle their budget holds, all in the session's transaction."""
        for run in outcome.runs:
            db.session.add(SkillRun(tenant_id=self.job.tenant_id, user_id=self.job.user_id, job_id=self.job.id, **run))
        db.session.flush()
        # The owner sees the usage and the models while the job runs, not only once it has finished (finish() sums
        # it again then). A second delivery racing this one may miss this step's runs until the next step's sum.
        usage = job_usage(self.job.id)
        db.session.execute(update(Job).where(Job.id == self.job.id).values(usage=usage, **job_values))
        # Last: the budget counters stay locked only until the commit.
        for settle in outcome.settlements:
            settle(db.session.connection())

    def check_cancelled(self) -> None:
        """Raise JobCancelled when the owner asked to cancel."""
        if self._cancel_requested():
            raise JobCancelled()

    def progress(self, fraction: float, stage: str) -> None:
        """Store progress (0..1) and the stage message, without touching the rest of the row."""
        db.session.execute(update(Job).where(Job.id == self.job.id).values(**progress_values(fraction, stage)))
        db.session.commit()


def progress_values(fraction: float, stage: str) -> dict[str, Any]:
    """The job columns that report progress: never lower than what the job already showed (a resumed job replans
    from its first step), and below 1.0 until it succeeded (backend.jobs.outcome.finish sets 1.0).

    A delivery that lost a race stores its last steps after the job ended: an ended job keeps what it showed.
    """
    fraction = min(max(fraction, 0.0), RUNNING_PROGRESS_MAX)
    ended = Job.status.in_(TERMINAL)
    progress = case((ended, Job.progress), (Job.progress > fraction, Job.progress), else_=literal(fraction))
    stage_now = case((ended, Job.stage), else_=literal(stage[:200]))
    return {"progress": progress, "stage": stage_now, "updated_at": case((ended, Job.updated_at), else_=utcnow())}
