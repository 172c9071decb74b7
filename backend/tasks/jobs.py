"""The Celery task that runs a job. It takes an id, loads its own rows, and is safe to run twice."""

from __future__ import annotations

from celery import current_app as current_celery_app
from celery import shared_task
from celery.signals import worker_init, worker_ready
from flask import current_app
from sqlalchemy import select

from backend.extensions import db
from backend.jobs.claim import BUSY
from backend.jobs.execute import execute_job
from backend.jobs.model_calls import load_step_callers
from backend.jobs.submit import enqueue
from backend.models import Job
from backend.tenancy import tenant_scope, unscoped


@shared_task(name="switchboard.run_job", acks_late=True, reject_on_worker_lost=True)
def run_job(job_id: str) -> str | None:
    """Run one queued job to completion, or resume it after a crash, inside the job's tenant scope."""
    with unscoped():
        tenant_id = db.session.scalar(select(Job.tenant_id).where(Job.id == job_id))
    if tenant_id is None:
        return None  # purged, or never committed: nothing to do
    with tenant_scope(tenant_id):
        status = execute_job(job_id, load_step_callers(current_app))
    if status == BUSY:
        # An early redelivery (RabbitMQ after a connection loss, Redis after the visibility timeout) while the
        # first worker may still be alive: look again once its heartbeat would have gone stale.
        enqueue(job_id, countdown=float(current_app.config["JOB_STALE_SECONDS"]))
    return status


def start_job_sweeper(**_: object) -> None:
    """When a worker is ready, start its sweeper of jobs whose worker died (see backend.jobs.recovery)."""
    from backend.jobs.recovery import start_sweeper

    flask_app = getattr(current_celery_app, "flask_app", None)
    if flask_app is not None:
        start_sweeper(flask_app)


def warm_up_worker(**_: object) -> None:
    """Before the pool forks, load what every job needs and takes seconds to load (the tokenizer, the SDKs and SK's
    connectors): the children inherit it instead of each paying for it on its first job."""
    from backend.dispatch import preload_call_path

    preload_call_path()


worker_ready.connect(start_job_sweeper, weak=False, dispatch_uid="switchboard.job_sweeper")
worker_init.connect(warm_up_worker, weak=False, dispatch_uid="switchboard.warm_up_worker")
