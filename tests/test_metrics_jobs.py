"""/metrics counts jobs by state and skill from the database at scrape time (every tenant's, counts only), and a
database that is down or silent leaves that gauge out of the scrape instead of failing or hanging it."""

from __future__ import annotations

import threading
import time

import pytest
from celery.contrib.testing.worker import start_worker
from prometheus_client.parser import text_string_to_metric_families

from backend import create_app, database
from backend.database import Base
from backend.extensions import db
from backend.jobs import metrics as job_metrics
from backend.models import Job
from backend.models.jobs import JOB_STATUSES
from tests.auth_fixtures import TENANT_A, TENANT_B, entra, entra_app_config, make_token, signing_key, tenants  # noqa: F401
from tests.jobs_support import MarkerModel, post_summary_job, providers_file, wait_for

JOBS, FAILURES = "switchboard_jobs", "switchboard_job_count_failures_total"


@pytest.fixture
def model():
    """The fake model, answering at once."""
    with MarkerModel() as server:
        yield server


@pytest.fixture
def app_config(app_config, entra, tmp_path, model, monkeypatch, each_backend_url) -> dict:  # noqa: F811
    """An Entra-configured app on SQLite or PostgreSQL, a broker file of its own, the fake model as its provider."""
    monkeypatch.setenv("TEST_FAKE_KEY", "sk-test-secret-0123456789")
    return {
        **entra_app_config(app_config, entra),
        "DATABASE_URL": each_backend_url,
        "BROKER_URL": f"sqla+sqlite:///{tmp_path / 'broker.sqlite'}",
        "PROVIDERS_FILE": str(providers_file(tmp_path / "providers.yaml", model)),
        "JOB_CHUNK_TOKENS": 200,
        "JOB_SWEEP_SECONDS": 0,
        "CELERY_POLL_INTERVAL": 0.05,
    }


def scrape(client) -> tuple[str, dict]:
    """The /metrics body, and its samples keyed by (sample name, sorted labels)."""
    response = client.get("/metrics")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(body)
        for sample in family.samples
    }
    return body, samples


def jobs(samples: dict, state: str, skill: str = "summarize_document") -> float | None:
    """The gauge's value for one state and skill, None when the gauge is not in the scrape."""
    return samples.get((JOBS, (("skill", skill), ("state", state))))


def failures(samples: dict, reason: str) -> float:
    """Scrapes that left the gauge out for `reason`, so far in this process."""
    return samples.get((FAILURES, (("reason", reason),)), 0.0)


def test_jobs_are_counted_by_state_and_skill_over_every_tenant(app, client, tenants, make_token):  # noqa: F811
    """Every known state and job skill is a series from the start (0), and jobs of both tenants add up; a skill no
    longer installed is `other`. Only the two labels: no tenant, user or job id reaches the body."""
    _, empty = scrape(client)
    assert all(jobs(empty, state, skill) == 0 for state in JOB_STATUSES for skill in job_metrics.job_skills())
    posted = [post_summary_job(client, make_token(tenant)) for tenant in (TENANT_A, TENANT_A, TENANT_B)]
    assert [response.status_code for response in posted] == [202, 202, 202]
    with app.app_context():
        owner = db.session.get(Job, posted[0].get_json()["id"])
        db.session.add(Job(tenant_id=owner.tenant_id, user_id=owner.user_id, skill_id="retired_skill", status="failed"))
        db.session.commit()
    body, counted = scrape(client)
    assert jobs(counted, "queued") == 3  # no worker is running: they wait
    assert jobs(counted, "failed", "other") == 1
    assert sum(value for (name, _), value in counted.items() if name == JOBS) == 4
    assert {labels for name, labels in counted if name == JOBS} >= {(("skill", "other"), ("state", "failed"))}
    assert all({key for key, _ in labels} == {"skill", "state"} for name, labels in counted if name == JOBS)
    assert not any(value in body for value in (TENANT_A, TENANT_B, posted[0].get_json()["id"], "retired_skill"))


def test_a_job_run_by_a_worker_moves_from_queued_to_succeeded(app, client, tenants, make_token):  # noqa: F811
    """The gauge is read from the database, where the worker's progress lands: no /metrics on the worker needed."""
    token = make_token(TENANT_A)
    job_id = post_summary_job(client, token).get_json()["id"]
    assert jobs(scrape(client)[1], "queued") == 1
    with start_worker(app.extensions["celery"], perform_ping_check=False, shutdown_timeout=30):

        def succeeded():
            """The job's status once final."""
            status = client.get(f"/api/jobs/{job_id}", headers={"Authorization": f"Bearer {token}"}).get_json()
            return status["status"] if status["status"] in ("succeeded", "failed", "cancelled") else None

        assert wait_for(succeeded, 30, what="the job to end") == "succeeded"
    _, counted = scrape(client)
    assert (jobs(counted, "queued"), jobs(counted, "running"), jobs(counted, "succeeded")) == (0, 0, 1)


def bare_app(tmp_path, database_url: str):
    """An app on a database that may be down (no schema made, no sign-in needed: /metrics answers anyone)."""
    return create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "DATABASE_URL": database_url,
            "BROKER_URL": f"sqla+sqlite:///{tmp_path / 'broker.sqlite'}",
            "SECRET_KEY": "test-secret-key-with-enough-entropy-0123456789",
        }
    )


@pytest.fixture
def no_count_left_running():
    """After the test, wait for a count still blocked on a dead database, so the next test's scrape can count."""
    yield
    assert job_metrics._counting.acquire(timeout=10), "a job count is still running"
    job_metrics._counting.release()


def test_a_failing_database_leaves_the_gauge_out_and_it_comes_back_with_the_database(tmp_path):
    """The scrape still answers 200 with every other metric; the failure is counted; the next scrape after the
    database is back counts jobs again (nothing is left broken or cached)."""
    folder = tmp_path / "not-yet"
    app = bare_app(tmp_path, f"sqlite:///{folder / 'switchboard.sqlite'}")
    client = app.test_client()
    before = failures(scrape(client)[1], "error")
    body, samples = scrape(client)
    assert failures(samples, "error") == before + 1
    assert JOBS not in {family.name for family in text_string_to_metric_families(body)}
    ok = ("switchboard_http_requests_total", (("endpoint", "/metrics"), ("method", "GET"), ("status", "200")))
    assert samples[ok] >= 1
    folder.mkdir()
    with app.app_context():
        Base.metadata.create_all(db.engine)
    assert jobs(scrape(client)[1], "queued") == 0


@pytest.mark.usefixtures("no_count_left_running")
def test_a_silent_database_cannot_hang_the_scrape_nor_pile_up_counts(tmp_path, silent_port, monkeypatch):
    """The scrape answers after the count's deadline; while that count waits on the database, later scrapes start
    no other (one thread, one connection at most), and each is counted as a timeout."""
    monkeypatch.setattr(job_metrics, "COUNT_DEADLINE_SECONDS", 0.5)
    monkeypatch.setattr(database, "POSTGRES_CONNECT_TIMEOUT_SECONDS", 3)
    client = bare_app(tmp_path, f"postgresql+psycopg2://u:p@127.0.0.1:{silent_port}/x").test_client()
    started = time.monotonic()
    _, first = scrape(client)  # its count is stuck connecting for 3 s
    assert time.monotonic() - started < 2.0
    started = time.monotonic()
    for _ in range(3):
        body, samples = scrape(client)
        assert JOBS not in {family.name for family in text_string_to_metric_families(body)}
    assert time.monotonic() - started < 1.0  # no count was started: no wait for a deadline either
    assert failures(samples, "timeout") == failures(first, "timeout") + 3
    counting = [thread for thread in threading.enumerate() if thread.name == "switchboard-job-counts"]
    assert len(counting) == 1
