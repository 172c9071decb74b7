"""The Celery task that runs a job. It takes an id, loads its own rows, and is safe to run twice."""

from __future__ import annotations

from celery import shared_task

from backend.jobs.execute import execute_job


@shared_task(name="switchboard.run_job", acks_late=True, reject_on_worker_lost=True)
def run_job(job_id: str) -> str | None:
    """Run one queued job to completion, or resume it after a crash."""
    from backend.dispatch import job_step_callers

    return execute_job(job_id, job_step_callers)
