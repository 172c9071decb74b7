"""Jobs on real worker processes and real brokers: a SIGKILLed worker's job is finished by another, each chunk
metered once; a Redis restart loses nothing; cancel stops the provider calls."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import uuid

import pytest
import redis
from kombu import Exchange, Queue
from sqlalchemy import func, select

from backend.database import Base
from backend.extensions import db
from backend.metering.budgets import budgets_for
from backend.models import Job, JobStep, SkillRun
from tests.auth_fixtures import app_config as app_config  # noqa: F401 - the fixture chain: Entra-configured app
from tests.auth_fixtures import bearer, entra, make_token, signing_key, tenants  # noqa: F401
from tests.jobs_support import (
    MarkerModel,
    WorkerProcess,
    document,
    free_port,
    markers,
    providers_file,
    wait_for,
    worker_env,
)

RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672//"
PARAGRAPHS = 48


class RedisServer:
    """A redis-server of this test's own on a free port (the shared one on 6379 is never restarted)."""

    def __init__(self, directory) -> None:
        """Start it with an append-only file in `directory`, as a production broker keeps its queue."""
        self.port, self.directory = free_port(), directory
        self.start()

    def start(self) -> None:
        """Start (or restart) the server on the same port and data directory."""
        argv = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.directory),
                "--appendonly", "yes", "--appendfsync", "always", "--save", ""]  # fmt: skip
        self.process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(self._answers, 10, what="redis-server to start")

    def _answers(self) -> bool:
        """True once the server answers PING."""
        try:
            return redis.Redis(port=self.port, socket_timeout=0.5).ping()
        except redis.RedisError:
            return False

    def stop(self) -> None:
        """Stop the server (SIGTERM)."""
        self.process.terminate()
        self.process.wait(10)

    @property
    def url(self) -> str:
        """The broker URL."""
        return f"redis://127.0.0.1:{self.port}/0"


@pytest.fixture
def model():
    """The fake model: every call takes 0.3 s."""
    with MarkerModel(latency=0.3) as server:
        yield server


@pytest.fixture
def job_config(app_config, tmp_path, model) -> dict:  # noqa: F811
    """A configuration shared by the test's web side and its worker processes."""
    return {
        **app_config,
        "PROVIDERS_FILE": str(providers_file(tmp_path / "providers.yaml", model)),
        "JOB_QUEUE": f"sb-jobs-{uuid.uuid4().hex[:10]}",
        "JOB_CONCURRENCY": 2,
        "JOB_CHUNK_TOKENS": 200,
        "JOB_HEARTBEAT_SECONDS": 0.5,
        "JOB_STALE_SECONDS": 3,
        "JOB_SWEEP_SECONDS": 1,
        "JOB_RETRY_BACKOFF_SECONDS": 0.2,
        "CELERY_POLL_INTERVAL": 0.1,
        "BUDGET_HOLD_SECONDS": 3,  # the holds of a killed worker's calls expire within 6 s (no call lasts that long)
    }


def make_app(config: dict):
    """The web side: an app on the test database with its schema."""
    from backend import create_app

    app = create_app(config)
    with app.app_context():
        Base.metadata.create_all(db.engine)
    return app


def submit(client, token: str, paragraphs: int = PARAGRAPHS) -> str:
    """POST a summarize_document job; its id."""
    body = {"skill": "summarize_document", "input": {"document": document(paragraphs)}}
    response = client.post("/api/jobs", json=body, headers=bearer(token))
    assert response.status_code == 202, response.get_json()
    return response.get_json()["id"]


def job_row(app, job_id: str) -> Job:
    """A fresh read of the job."""
    with app.app_context():
        return db.session.get(Job, job_id)


def counts(app, job_id: str) -> tuple[int, int]:
    """(stored steps, succeeded metered calls) of the job."""
    with app.app_context():
        steps = db.session.scalar(select(func.count()).select_from(JobStep).where(JobStep.job_id == job_id))
        runs = db.session.scalar(select(func.count()).where(SkillRun.job_id == job_id, SkillRun.outcome == "succeeded"))
        return steps, runs


def finished_lines(*workers: WorkerProcess, job_id: str) -> list[dict]:
    """The `job finished` log records of this job across the workers' logs."""
    records = []
    for worker in workers:
        for line in worker.output().splitlines():
            if line.startswith("{") and '"job finished"' in line:
                record = json.loads(line)
                if record.get("job_id") == job_id:
                    records.append(record)
    return records


def delete_queue(url: str, queue: str) -> None:
    """Remove the test's queue from the shared RabbitMQ."""
    from kombu import Connection

    with Connection(url) as connection:
        channel = connection.default_channel
        Queue(queue, Exchange(queue), routing_key=queue, channel=channel).delete()


def kill_mid_job_and_resume(app, model, job_config, make_token, tenants, tmp_path, extra_env):  # noqa: F811
    """Start a job, SIGKILL its worker after a few steps, let a new worker finish it; check nothing was lost or
    repeated."""
    client = app.test_client()
    token = make_token(tenants[0])
    env = worker_env(job_config, extra_env)
    budgets = budgets_for(app)
    first = WorkerProcess(env, tmp_path / "worker-1.log")
    second = None
    try:
        job_id = submit(client, token)
        wait_for(lambda: counts(app, job_id)[0] >= 3, 60, what="three steps stored")
        first.kill()
        killed_at = counts(app, job_id)[0]
        assert job_row(app, job_id).status == "running"
        second = WorkerProcess(env, tmp_path / "worker-2.log")
        wait_for(lambda: job_row(app, job_id).status in ("succeeded", "failed"), 90, what="the job to end")
        # The budget holds of the calls lost with the killed worker stop counting within two hold windows.
        wait_for(lambda: budgets.usage(tenants[0])["reserved_usd"] == 0, 30, what="the lost calls' holds to expire")
    finally:
        if second is not None:
            second.stop()
        if first.process.poll() is None:
            first.stop()
    job = job_row(app, job_id)
    assert job.status == "succeeded", (job.error, first.output()[-3000:], second.output()[-3000:])
    # The output is complete: every paragraph's marker, once, in order.
    assert job.output["summary"].split() == markers(PARAGRAPHS)
    steps, runs = counts(app, job_id)
    assert killed_at < steps
    assert runs == steps, "each step is metered exactly once"
    # Every call the fake answered is a metered step, except those lost with the worker: the calls in flight, and
    # calls answered but not yet stored (their slot had already started the next call), at most 2 x concurrency.
    calls = len(model.chat_requests())
    assert steps <= calls <= steps + 2 * job_config["JOB_CONCURRENCY"]
    assert job.attempts == 2
    assert len(finished_lines(first, second, job_id=job_id)) == 1, "the job reached `succeeded` exactly once"
    # The budget charged what the usage records show: once per stored step, never for a call lost with the worker.
    assert budgets.usage(tenants[0])["spent_usd"] == metered_cost(app, tenants[0]) > 0
    response = client.get(f"/api/jobs/{job_id}", headers=bearer(token)).get_json()
    assert response["status"] == "succeeded" and response["usage"]["calls"] == steps


def metered_cost(app, tenant_id: str):
    """What the tenant's usage records add up to."""
    with app.app_context():
        return db.session.scalar(select(func.sum(SkillRun.cost_usd)).where(SkillRun.tenant_id == tenant_id))


def test_sigkilled_worker_on_the_sqla_broker_is_swept_and_resumed(job_config, model, make_token, tenants, tmp_path):  # noqa: F811
    """The SQLite broker never redelivers a dead worker's message: the stale heartbeat sweep requeues the job."""
    job_config["BROKER_URL"] = f"sqla+sqlite:///{tmp_path / 'broker.sqlite'}"
    app = make_app(job_config)
    kill_mid_job_and_resume(app, model, job_config, make_token, tenants, tmp_path, {})


@pytest.mark.redis
def test_sigkilled_worker_on_redis_is_redelivered_and_resumed(job_config, model, make_token, tenants, tmp_path):  # noqa: F811
    """Redis redelivers the unacknowledged message after the visibility timeout; no sweep involved."""
    server = RedisServer(tmp_path)
    try:
        job_config.update(BROKER_URL=server.url, JOB_SWEEP_SECONDS=0)
        app = make_app(job_config)
        kill_mid_job_and_resume(app, model, job_config, make_token, tenants, tmp_path, {"TEST_VISIBILITY_TIMEOUT": 2})
    finally:
        server.stop()


@pytest.mark.rabbitmq
def test_sigkilled_worker_on_rabbitmq_is_redelivered_and_resumed(job_config, model, make_token, tenants, tmp_path):  # noqa: F811
    """RabbitMQ requeues the unacknowledged message when the dead worker's connection drops; no sweep involved."""
    job_config.update(BROKER_URL=RABBITMQ_URL, JOB_SWEEP_SECONDS=0)
    app = make_app(job_config)
    try:
        kill_mid_job_and_resume(app, model, job_config, make_token, tenants, tmp_path, {})
    finally:
        delete_queue(RABBITMQ_URL, job_config["JOB_QUEUE"])


@pytest.mark.redis
@pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server")
def test_redis_restart_during_a_job_loses_nothing(job_config, model, make_token, tenants, tmp_path):  # noqa: F811
    """A running job and one queued behind it both finish although the broker restarted in between."""
    server = RedisServer(tmp_path)
    job_config.update(BROKER_URL=server.url, JOB_SWEEP_SECONDS=0)
    app = make_app(job_config)
    client, token = app.test_client(), make_token(tenants[0])
    worker = WorkerProcess(worker_env(job_config), tmp_path / "worker.log")
    try:
        running, waiting = submit(client, token), submit(client, token, paragraphs=12)
        wait_for(lambda: counts(app, running)[0] >= 2, 60, what="the first job to make progress")
        server.stop()
        time.sleep(1)
        server.start()
        wait_for(lambda: job_row(app, waiting).status in ("succeeded", "failed"), 90, what="both jobs to end")
    finally:
        worker.stop()
        server.stop()
    for job_id, paragraphs in ((running, PARAGRAPHS), (waiting, 12)):
        job = job_row(app, job_id)
        assert job.status == "succeeded", (job.error, worker.output()[-3000:])
        assert job.output["summary"].split() == markers(paragraphs)
        assert counts(app, job_id)[0] == counts(app, job_id)[1]


def test_cancel_stops_a_running_job_and_its_provider_calls(job_config, model, make_token, tenants, tmp_path):  # noqa: F811
    """Cancel ends the job within a few seconds, aborts the calls in flight, and no call is made after."""
    model.latency = 1.0
    job_config["BROKER_URL"] = f"sqla+sqlite:///{tmp_path / 'broker.sqlite'}"
    app = make_app(job_config)
    client, token = app.test_client(), make_token(tenants[0])
    worker = WorkerProcess(worker_env(job_config), tmp_path / "worker.log")
    try:
        job_id = submit(client, token)
        wait_for(lambda: counts(app, job_id)[0] >= 1, 60, what="a first step")
        cancelled_at = time.monotonic()
        response = client.post(f"/api/jobs/{job_id}/cancel", headers=bearer(token))
        assert response.status_code == 202
        wait_for(lambda: job_row(app, job_id).status == "cancelled", 5, what="the job to stop")
        stopped_after = time.monotonic() - cancelled_at
        calls = len(model.chat_requests())
        time.sleep(2.5)
        assert len(model.chat_requests()) == calls, "no provider call after the job stopped"
    finally:
        worker.stop()
    steps, _runs = counts(app, job_id)
    assert stopped_after < 5
    assert calls <= steps + job_config["JOB_CONCURRENCY"] + 1
    assert steps < 12, "the job did not run to its end"
    document_ = client.get(f"/api/jobs/{job_id}", headers=bearer(token)).get_json()
    assert document_["status"] == "cancelled" and "output" not in document_


def test_a_job_killing_every_worker_fails_after_its_attempts(job_config, model, make_token, tenants, tmp_path):  # noqa: F811
    """Each worker that takes the job dies under it (SIGKILL, as the OOM killer does): after JOB_MAX_ATTEMPTS
    takeovers the next worker's sweep fails the job with `job_attempts_exhausted` instead of running it again."""
    job_config.update(BROKER_URL=f"sqla+sqlite:///{tmp_path / 'broker.sqlite'}", JOB_MAX_ATTEMPTS=2)
    app = make_app(job_config)
    client, token = app.test_client(), make_token(tenants[0])
    env = worker_env(job_config)
    job_id = submit(client, token)
    workers = []
    try:
        for attempt in (1, 2):
            workers.append(WorkerProcess(env, tmp_path / f"worker-{attempt}.log"))
            started = counts(app, job_id)[0]
            wait_for(lambda a=attempt: job_row(app, job_id).attempts == a, 60, what=f"attempt {attempt} to start")
            wait_for(lambda s=started: counts(app, job_id)[0] > s, 60, what=f"attempt {attempt} to store a step")
            workers[-1].kill()
        calls = len(model.chat_requests())
        workers.append(WorkerProcess(env, tmp_path / "worker-3.log"))
        wait_for(lambda: job_row(app, job_id).status != "running", 60, what="the job to end")
        time.sleep(1.5)  # room for a wrongly sent message to reach the worker and call the model
    finally:
        workers[-1].stop()
    job = job_row(app, job_id)
    assert job.status == "failed", (job.error, workers[-1].output()[-3000:])
    assert job.error["code"] == "job_attempts_exhausted" and job.attempts == 2
    assert len(model.chat_requests()) == calls, "the provider is not called again"
    steps, runs = counts(app, job_id)
    assert 2 <= steps == runs and job.output is None, "the finished steps and their metering stay"
    document_ = client.get(f"/api/jobs/{job_id}", headers=bearer(token)).get_json()
    assert document_["status"] == "failed" and document_["usage"]["calls"] == steps
