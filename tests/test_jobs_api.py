"""The jobs API with real tokens and a real (in-process) worker: create, read, list, cancel, events; owners only."""

from __future__ import annotations

import json
import uuid
import zlib

import pytest
from celery.contrib.testing.worker import start_worker

from backend.errors import ApiError
from backend.extensions import db
from backend.jobs import store
from backend.jobs.request_fingerprint import request_fingerprint
from backend.models import Job, Tenant
from tests.auth_fixtures import (  # noqa: F401
    TENANT_A,
    TENANT_B,
    bearer,
    entra,
    entra_app_config,
    log_lines,
    make_token,
    signing_key,
    tenants,
)
from tests.conftest import add_tenant_with_user
from tests.jobs_support import app_config, document, markers, model, post_summary_job, wait_for  # noqa: F401


@pytest.fixture
def worker(app):
    """A real Celery worker (threads, in this process) consuming the app's broker."""
    with start_worker(app.extensions["celery"], perform_ping_check=False, shutdown_timeout=30) as running:
        yield running


def finished(client, token, job_id):
    """The job once it ended."""

    def ended():
        """The job document once its status is final."""
        body = client.get(f"/api/jobs/{job_id}", headers=bearer(token)).get_json()
        return body if body["status"] in ("succeeded", "failed", "cancelled") else None

    return wait_for(ended, 30, what="the job to end")


def test_a_job_runs_to_its_output_and_its_owner_reads_it(app, client, tenants, make_token, worker, model):  # noqa: F811
    """202 with Location, then succeeded with the complete summary, usage, and one metered call per step."""
    token = make_token(TENANT_A)
    response = post_summary_job(client, token)
    assert response.status_code == 202
    body = response.get_json()
    assert (body["status"], body["progress"]) == ("queued", 0)
    assert response.headers["Location"].endswith(f"/api/jobs/{body['id']}")
    done = finished(client, token, body["id"])
    assert done["status"] == "succeeded", done
    assert done["progress"] == 1.0
    assert done["output"]["summary"].split() == markers(12)
    assert done["usage"]["calls"] == len(model.chat_requests()) and done["usage"]["input_tokens"] > 0


def test_only_the_owner_sees_a_job(app, client, tenants, make_token):  # noqa: F811
    """Another user of the tenant and a user of another tenant get 404 on read, cancel and events."""
    owner_oid = str(uuid.uuid4())
    owner, colleague = make_token(TENANT_A, owner_oid), make_token(TENANT_A, str(uuid.uuid4()))
    stranger = make_token(TENANT_B, owner_oid)  # the same oid in another tenant is another person
    job_id = post_summary_job(client, owner).get_json()["id"]
    for token in (colleague, stranger):
        assert client.get(f"/api/jobs/{job_id}", headers=bearer(token)).status_code == 404
        assert client.post(f"/api/jobs/{job_id}/cancel", headers=bearer(token)).status_code == 404
        response = client.get(f"/api/jobs/{job_id}/events", headers=bearer(token))
        assert response.status_code == 404
        assert response.get_json()["error"]["code"] == "not_found"
        assert client.get("/api/jobs", headers=bearer(token)).get_json()["jobs"] == []
    assert client.get(f"/api/jobs/{job_id}", headers=bearer(owner)).status_code == 200
    assert client.get(f"/api/jobs/{job_id}").status_code == 401


def test_list_is_newest_first_and_paginated(app, client, tenants, make_token):  # noqa: F811
    """Pages of `limit` jobs follow the `next` cursor to the end."""
    token = make_token(TENANT_A)
    ids = [post_summary_job(client, token, paragraphs=2).get_json()["id"] for _ in range(5)]
    seen, cursor = [], None
    while True:
        query = "?limit=2" + (f"&before={cursor}" if cursor else "")
        page = client.get(f"/api/jobs{query}", headers=bearer(token)).get_json()
        seen += [job["id"] for job in page["jobs"]]
        cursor = page["next"]
        if cursor is None:
            break
    assert seen == ids[::-1]


def test_large_inputs_are_accepted_and_stored_compressed_and_too_large_is_413(app, client, tenants, make_token):  # noqa: F811
    """An input just under JOB_MAX_INPUT_BYTES is accepted (beyond the skill's direct-call limit) and stored
    compressed; one byte over the limit is 413 in the contract's shape."""
    token = make_token(TENANT_A)
    limit = app.config["JOB_MAX_INPUT_BYTES"]
    text = document(6000)
    text = (text * (limit // len(text) + 1))[:limit]
    body = json.dumps({"skill": "summarize_document", "input": {"document": text}})
    text = text[: len(text) - (len(body) - limit) - 100]  # JSON escapes make the body longer than the text
    body = json.dumps({"skill": "summarize_document", "input": {"document": text}})
    assert limit - 200 <= len(body) <= limit
    response = client.post("/api/jobs", data=body, content_type="application/json", headers=bearer(token))
    assert response.status_code == 202, response.get_json()
    with app.app_context():
        stored = db.session.get(Job, response.get_json()["id"]).input_compressed
    assert len(stored) < len(body) / 3
    assert json.loads(zlib.decompress(stored))["document"] == text
    over = json.dumps({"skill": "summarize_document", "input": {"document": "x" * limit}})
    response = client.post("/api/jobs", data=over, content_type="application/json", headers=bearer(token))
    assert response.status_code == 413
    assert set(response.get_json()["error"]) >= {"code", "message"}


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"skill": "summarize", "input": {"text": "x"}}, 404, "unknown_skill"),
        ({"skill": "summarize_document", "input": {}}, 422, "invalid_input"),
        ({"skill": "summarize_document"}, 400, "bad_request"),
    ],
)
def test_bad_requests_are_refused_in_the_contract_shape(app, client, tenants, make_token, body, status, code):  # noqa: F811
    """A skill that is not long-running, a schema failure, a missing input."""
    response = client.post("/api/jobs", json=body, headers=bearer(make_token(TENANT_A)))
    assert response.status_code == status
    assert response.get_json()["error"]["code"] == code


def test_cancel_before_a_worker_takes_it(app, client, tenants, make_token, model):  # noqa: F811
    """A queued job cancels at once, and a worker arriving later makes no call for it."""
    token = make_token(TENANT_A)
    job_id = post_summary_job(client, token).get_json()["id"]
    response = client.post(f"/api/jobs/{job_id}/cancel", headers=bearer(token))
    assert response.status_code == 202 and response.get_json()["status"] == "cancelled"
    with start_worker(app.extensions["celery"], perform_ping_check=False, shutdown_timeout=30):
        other = post_summary_job(client, token, paragraphs=2).get_json()["id"]
        finished(client, token, other)  # the queue is drained up to a later job
    assert client.get(f"/api/jobs/{job_id}", headers=bearer(token)).get_json()["status"] == "cancelled"
    assert all("P00003" not in json.dumps(r.body) for r in model.chat_requests())


def test_a_running_job_shows_its_usage_so_far(app, client, tenants, make_token, worker, model):  # noqa: F811
    """While a job runs, GET and the job list answer with the usage of its calls so far and the models that made
    them, before the job has finished."""
    app.config["JOB_CONCURRENCY"] = 1
    model.latency = 0.2  # each call takes a while: the job is seen running after some of its steps
    token = make_token(TENANT_A)
    job_id = post_summary_job(client, token, paragraphs=30).get_json()["id"]

    def running_with_usage():
        """The job's document once it runs and has usage, or None."""
        body = client.get(f"/api/jobs/{job_id}", headers=bearer(token)).get_json()
        return body if body["status"] == "running" and body.get("usage") else None

    running = wait_for(running_with_usage, 30, interval=0.05, what="a running job with usage")
    fake = {"provider": "fake", "model": "gpt-test", "location": "us-east"}
    assert running["usage"]["calls"] >= 1 and running["usage"]["cost_usd"] > 0
    assert running["usage"]["models"] == [{**fake, "calls": running["usage"]["calls"]}]
    listed = client.get("/api/jobs", headers=bearer(token)).get_json()["jobs"]
    assert [job["usage"]["models"][0]["model"] for job in listed if job["id"] == job_id] == ["gpt-test"]
    done = finished(client, token, job_id)
    assert done["status"] == "succeeded" and done["usage"]["calls"] > running["usage"]["calls"]


def test_events_stream_progress_then_done(app, client, tenants, make_token, worker, model):  # noqa: F811
    """`progress` events with growing fractions and the usage so far, then one `done` with the finished job."""
    model.latency = 0.1  # slow enough for progress events between the steps
    token = make_token(TENANT_A)
    job_id = post_summary_job(client, token, paragraphs=30).get_json()["id"]
    response = client.get(f"/api/jobs/{job_id}/events", headers=bearer(token), buffered=False)
    assert response.status_code == 200 and response.mimetype == "text/event-stream"
    events = []
    for block in b"".join(response.response).decode().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines() if not line.startswith(":"))
        if lines:
            events.append((lines["event"], json.loads(lines["data"])))
    names = [name for name, _ in events]
    assert names[-1] == "done" and names.count("done") == 1 and set(names[:-1]) <= {"progress"}
    fractions = [data["progress"] for name, data in events if name == "progress"]
    assert fractions == sorted(fractions)
    calls = [data["usage"]["calls"] for name, data in events if name == "progress" and "usage" in data]
    assert calls and calls == sorted(calls) and calls[-1] <= events[-1][1]["usage"]["calls"]
    assert all(data["usage"]["models"][0]["model"] == "gpt-test" for name, data in events if "usage" in data)
    assert events[-1][1]["status"] == "succeeded" and events[-1][1]["output"]["summary"].split() == markers(30)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/api/jobs/%00", None),
        ("POST", "/api/jobs/%00/cancel", None),
        ("GET", "/api/jobs?before=%00", None),
        # An idempotency_key with a NUL: 422, test_jobs_idempotency.py
    ],
)
def test_a_nul_character_is_bad_input_on_postgresql_not_a_500(app_pg, make_token, method, path, body):  # noqa: F811
    """PostgreSQL refuses NUL in text: the API answers 400 in the contract's shape before the database is asked."""
    with app_pg.app_context():
        db.session.add(Tenant(id=TENANT_A, name="Contoso"))
        db.session.commit()
    response = app_pg.test_client().open(path, method=method, json=body, headers=bearer(make_token(TENANT_A)))
    assert response.status_code == 400, response.get_json()
    assert response.get_json()["error"]["code"] == "bad_request"


@pytest.mark.parametrize("worker_wrote", [{"status": "running"}, {"status": "succeeded", "output": {"summary": "s"}}])
def test_cancel_never_overwrites_what_a_worker_just_wrote(app, client, tenants, make_token, worker_wrote):  # noqa: F811
    """The cancel request read the job queued, then a worker claimed (or even finished) it: the job keeps the
    worker's status (a running job gets the cancel flag and stops itself), never `cancelled` over a live run or a
    finished output."""
    token = make_token(TENANT_A)
    job_id = post_summary_job(client, token).get_json()["id"]
    with app.app_context():
        job = db.session.get(Job, job_id)
        assert job.status == "queued"
        with db.engine.begin() as worker_connection:
            worker_connection.execute(Job.__table__.update().where(Job.__table__.c.id == job_id).values(**worker_wrote))
        store.request_cancel(job)
        db.session.expire_all()
        row = db.session.get(Job, job_id)
        assert row.status == worker_wrote["status"]
        assert row.cancel_requested == (worker_wrote["status"] == "running")
