"""The sentinel sweep: each flow runs with sentinel document text and sentinel secrets (a tenant's provider key, the
platform's key, the Entra bearer tokens themselves, and for a drive-item job the app's client secret, the Graph tokens
and Graph's pre-authenticated download URL), then every place that must not hold them is searched.

Sinks: every log record at DEBUG (its message, its extra fields, the messages of the exceptions it carries, and the
lines the product's JSON and plain formatters write for it), every response's headers, every error body, every SSE
`error` event and job `error` field, GET /metrics, GET /api/admin/audit, every row of every table except the columns
meant to hold a job's content (so SkillRun metering rows, audit events, job errors, budget, rate-limit and circuit
rows), and the tables of the embedded SQLite Celery broker and result store (kombu message bodies decoded). A
successful answer may carry document text (it is the answer), never a secret.

Flows: invoke (JSON and SSE) succeeding; every model failing; a provider 400 (and 401) whose error body quotes the
prompt (or the key); a stream cut mid-way and an in-stream error quoting the prompt; a structured answer still invalid
after its repair; the Excel skills on sentinel cells; 422 and 400 input failures with the sentinel in the offending
field; 413 input_too_large; 429 rate_limited and budget_exhausted; jobs through a real Celery worker that succeed,
whose step fails for good, whose every model fails, over sentinel workbook sheets, and over a OneDrive file; admin
PATCH with a provider key, 422s with the key in an invalid entry or pasted into the wrong field, the provider
connection test; invalid, expired and foreign bearer tokens; the document where a client chooses an id (a skill, job or
provider id in the URL, the X-Request-ID header, a job's idempotency key).

The last tests show the sweep can fail: each reintroduces one plausible leak and expects the sweep to report it.
"""

from __future__ import annotations

import base64
import json
import logging
import sqlite3
import time
import urllib.parse
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from celery.contrib.testing.worker import start_worker
from sqlalchemy import inspect, text

from backend.extensions import db
from backend.log_format import JsonFormatter, PlainFormatter
from tests.auth_fixtures import (  # noqa: F401
    SIGNING_KID,
    TENANT_A,
    bearer,
    entra,
    make_token,
    signing_key,
    stranger_key,
    tenants,
)
from tests.fakes import Fault
from tests.fakes.entra import FakeEntra
from tests.fakes.graph import DriveItem, FakeGraph
from tests.fakes.harness import TEST_KEY
from tests.jobs_support import wait_for
from tests.privacy_support import TENANT_KEY, Sweep, error_events, sqlite_texts
from tests.test_auth_obo import PUBLIC_AUTHORITY, LoopbackSession, obo_app_config
from tests.test_invoke import REPLY, providers_config, servers  # noqa: F401

DOC = "Sentinel-Quokka-7731"
DOCUMENT = f"The {DOC} merger terms are confidential and the price is 41 million."
USER_OID = "0b1c2d3e-0000-4000-8000-000000000001"
ADMIN_OID = "0b1c2d3e-0000-4000-8000-000000000002"


@pytest.fixture
def app_config(app_config, entra, servers, tmp_path, monkeypatch):  # noqa: F811
    """The invoke tests' providers at DEBUG, with a broker of its own for jobs and quick job retries."""
    config = providers_config(app_config, entra, servers, tmp_path, monkeypatch)
    return {
        **config,
        "LOG_LEVEL": "DEBUG",
        "LOG_JSON": True,
        "BROKER_URL": f"sqla+sqlite:///{tmp_path / 'broker.sqlite'}",
        "RESULT_BACKEND": f"db+sqlite:///{tmp_path / 'results.sqlite'}",
        "CELERY_POLL_INTERVAL": 0.05,
        "JOB_SWEEP_SECONDS": 0,
        "JOB_RETRY_BACKOFF_SECONDS": 0.05,
        "JOB_EVENTS_POLL_SECONDS": 0.05,
    }


@pytest.fixture
def sweep(app, client, caplog, tmp_path, servers, make_token, stranger_key, tenants) -> Sweep:  # noqa: F811
    """A sweep whose secrets are the tenant's and the platform's keys and both tokens, its content the sentinel."""
    caplog.set_level(logging.DEBUG)
    user_token = make_token(TENANT_A, USER_OID)
    admin_token = make_token(TENANT_A, ADMIN_OID, roles=["Tenant.Admin"])
    users = bearer(user_token), bearer(admin_token)
    sweep = Sweep(app, client, caplog, tmp_path, servers, *users, make_token, stranger_key)
    sweep.content["document"] = DOC
    sweep.secrets.update(tenant_key=TENANT_KEY, platform_key=TEST_KEY)
    for name, token in (("user", user_token), ("admin", admin_token)):
        sweep.secrets[f"{name} token"] = token
        sweep.secrets[f"{name} token signature"] = token.rsplit(".", 1)[1]
    return sweep


# -- the flows -----------------------------------------------------------------------------------------------------


def invoke_succeeds(sweep: Sweep) -> None:
    """JSON and SSE answers on the tenant's own key, then a fallback to the other SDK."""
    sweep.use_tenant_key()
    for stream in (False, True):
        response = sweep.invoke("summarize", {"text": DOCUMENT, "instructions": f"mention {DOC}"}, stream)
        assert response.status_code == 200
        assert "event: done" in response.get_data(as_text=True) if stream else response.get_json()["output"] == REPLY
    sweep.servers[0].fail_next(1, Fault.server_error(500))
    response = sweep.invoke("summarize", {"text": DOCUMENT}, stream=True)
    assert json.loads(response.get_data(as_text=True).split("data: ", 1)[1].split("\n")[0])["model"]["provider"] == (
        "claude"
    )
    with sweep.app.app_context():
        runs = db.session.execute(text("SELECT count(*) FROM skill_runs")).scalar()
    assert runs == 3


def every_model_fails(sweep: Sweep) -> None:
    """all_models_failed, JSON and SSE, each provider's error body quoting the prompt."""
    for stream in (False, True):
        sweep.servers[0].fail_next(1, Fault.http_status(503, message=f"overloaded while reading: {DOCUMENT}"))
        sweep.servers[1].fail_next(1, Fault.http_status(529, message=f"overloaded while reading: {DOCUMENT}"))
        response = sweep.invoke("summarize", {"text": DOCUMENT}, stream)
        assert response.status_code in (502, 503)
        assert response.get_json()["error"]["code"] == "all_models_failed"


def provider_rejects_the_prompt(sweep: Sweep) -> None:
    """A 400 whose body quotes the prompt, from each provider (JSON and SSE), and a 401 quoting the tenant's key."""
    sweep.use_tenant_key()
    quoted = f"Invalid request: the prompt '{DOCUMENT}' contains a disallowed phrase"
    for stream in (False, True):
        sweep.servers[0].fail_next(1, Fault.http_status(400, message=quoted))
        response = sweep.invoke("summarize", {"text": DOCUMENT}, stream)
        assert response.get_json()["error"]["code"] == "provider_rejected_request"
    sweep.call("PATCH", "/api/admin/tenant", sweep.admin, json={"routing": {"mode": "quality"}})
    for stream in (False, True):
        sweep.servers[1].fail_next(1, Fault.http_status(400, message=quoted))
        response = sweep.invoke("summarize", {"text": DOCUMENT}, stream)
        assert response.get_json()["error"]["code"] == "provider_rejected_request"
    sweep.call("PATCH", "/api/admin/tenant", sweep.admin, json={"routing": {"mode": "cost"}})
    sweep.servers[0].fail_next(1, Fault.http_status(401, message=f"Incorrect API key provided: {TENANT_KEY}"))
    response = sweep.invoke("summarize", {"text": DOCUMENT})
    assert response.get_json()["error"]["code"] == "provider_auth_failed"


def stream_breaks_midway(sweep: Sweep) -> None:
    """A connection cut after some text, and an in-stream error event quoting the prompt, from each provider."""
    sweep.servers[0].script(fault=Fault.cut_after(5))
    sweep.servers[0].script(fault=Fault.error_event(5, status=400, message=f"content filter: {DOCUMENT}"))
    for _ in range(2):
        body = sweep.invoke("summarize", {"text": DOCUMENT}, stream=True).get_data(as_text=True)
        assert [e["code"] for e in error_events(body)] == ["stream_interrupted"]
    sweep.call("PATCH", "/api/admin/tenant", sweep.admin, json={"routing": {"mode": "quality"}})
    sweep.servers[1].script(fault=Fault.error_event(5, status=400, message=f"content filter: {DOCUMENT}"))
    body = sweep.invoke("summarize", {"text": DOCUMENT}, stream=True).get_data(as_text=True)
    assert [e["code"] for e in error_events(body)] == ["stream_interrupted"]


def structured_answer_stays_invalid(sweep: Sweep) -> None:
    """invalid_model_output: answers that are not JSON, or JSON of the wrong shape, quoting the document."""
    not_json = f"Sure! The edits for '{DOCUMENT}' are: none"
    wrong_shape = json.dumps({"edits": [{"original": DOC, "replacement": 7, "reason": DOC}], DOC: DOCUMENT})
    for reply in (not_json, wrong_shape):
        for stream in (False, True):
            sweep.servers[0].script(reply=reply, times=2)
            response = sweep.invoke("proofread", {"text": DOCUMENT}, stream)
            assert response.status_code == 502
            assert response.get_json()["error"]["code"] == "invalid_model_output"
    sweep.servers[0].script(reply=json.dumps({"formula": f'=SUM("{DOC}"', "explanation": DOC}), times=2)
    response = sweep.invoke("write_formula", {"instructions": f"add up {DOC}", "target_cell": "B2"})
    assert response.get_json()["error"]["code"] == "invalid_model_output"


# A sheet whose cells, formulas, number formats, address and sheet name all carry the sentinel.
SHEET = f"'{DOC} Q3'"
SENTINEL_RANGE = {
    "address": f"{SHEET}!A1:C3",
    "values": [["Client", "Signed", "Amount"], [DOC, 45292, 41], [f"{DOC} Ltd", "n/a", f"={DOC}"]],
    "formulas": [["Client", "Signed", "Amount"], [DOC, 45292, f"=SUM({SHEET}!C2:C2)"], [f"{DOC} Ltd", "n/a", "=C2*2"]],
    "number_formats": [[None, None], [None, "yyyy-mm-dd"], [None, DOC[:20]]],
}


def excel_skills_run_on_sentinel_cells(sweep: Sweep) -> None:
    """Every Excel skill on a range full of the sentinel: the answers (not structured: repaired, then refused) and
    their errors, and the statistics computed in Python, hold none of it outside the answer."""
    sweep.servers[0].default_reply = f"The column {'Amount'} sums to 41."
    for skill, data in [
        ("analyze_range", {"range": SENTINEL_RANGE, "instructions": f"look at {DOC}"}),
        ("clean_data", {"range": SENTINEL_RANGE}),
        ("text_to_table", {"range": SENTINEL_RANGE}),
        ("explain_formula", {"range": SENTINEL_RANGE}),
        ("explain_formula", {"formula": f'=VLOOKUP("{DOC}", {SHEET}!A1:C3, 3, FALSE) + ((('}),
        ("write_formula", {"instructions": f"total of {DOC}", "range": SENTINEL_RANGE, "target_cell": f"{SHEET}!D2"}),
    ]:
        for stream in (False, True):
            response = sweep.invoke(skill, data, stream)
            assert response.status_code in (200, 502), (skill, response.get_data(as_text=True))


def refusals_by_limits(sweep: Sweep) -> None:
    """429 rate_limited and budget_exhausted, with the document in the refused request."""
    limits = {"rate_limits": {"user_requests_per_minute": 1}, "budgets": {"user_monthly_usd": 0.000001}}
    assert sweep.call("PATCH", "/api/admin/tenant", sweep.admin, json=limits).status_code == 200
    codes = {sweep.invoke("summarize", {"text": DOCUMENT}, stream).get_json()["error"]["code"] for stream in (0, 1)}
    assert codes == {"budget_exhausted", "rate_limited"}, codes


def input_is_refused(sweep: Sweep) -> None:
    """422s with the sentinel in the offending field, 400s around a body holding it, and the 413s."""
    refused = [
        ("summarize", {"text": DOCUMENT, "length": DOC}, 422),
        ("summarize", {"text": DOCUMENT, "instructions": DOCUMENT * 100}, 422),
        ("summarize", {"text": [DOCUMENT], "sensitivity": DOC}, 422),
        ("proofread", {"text": {DOC: DOCUMENT}}, 422),
        ("ask", {"instructions": "what?", "history": [{"role": DOC, "content": DOC, DOC: DOCUMENT}]}, 422),
        ("ask", {"instructions": "what?", "history": [{"role": "user", "content": DOCUMENT * 400}]}, 422),
        ("analyze_range", {"range": {"address": DOC, "values": DOC, "number_formats": [[DOC * 20]]}}, 422),
        ("summarize", {"text": DOCUMENT * 1000}, 413),
        ("ask", {"instructions": "what?", "history": [{"role": "user", "content": DOCUMENT * 200}] * 4}, 413),
    ]
    for skill, data, status in refused:
        for stream in (False, True):
            response = sweep.invoke(skill, data, stream)
            assert response.status_code == status, (skill, response.get_data(as_text=True))
    headers = {**sweep.user, "Content-Type": "application/json"}
    malformed = [
        f'{{"input": {{"text": "{DOC}"',  # cut short
        f'{{"input": "{DOC}"}}',  # not an object
        f'{{"input": {{"text": "{DOC}"}}, "options": "{DOC}"}}',  # options not an object
        f'{{"input": {{"text": "{DOC}", "n": NaN}}}}',  # not JSON
    ]
    for raw in malformed:
        assert sweep.call("POST", "/api/skills/summarize/invoke", headers, data=raw).status_code == 400
    too_big = json.dumps({"input": {"text": DOCUMENT * 40_000}})
    assert sweep.call("POST", "/api/skills/summarize/invoke", headers, data=too_big).status_code == 413
    sweep.call("PATCH", "/api/admin/tenant", sweep.admin, json={"rate_limits": {"user_tokens_per_minute": 50}})
    response = sweep.invoke("summarize", {"text": DOCUMENT * 10})
    assert response.status_code == 413 and response.get_json()["error"]["details"]["limit"] == "user_tokens_per_minute"
    jobs = [
        {"skill": "summarize_document", "input": {"document": DOCUMENT, "length": DOC}},
        {"skill": "summarize_document", "input": {"drive_item": {"drive_id": DOC + "/..", "item_id": DOC}}},
        {"skill": "summarize_document", "input": {"document": DOCUMENT}, "options": DOC},
        {"skill": DOC, "input": {"document": DOCUMENT}},
    ]
    for body in jobs:
        assert sweep.call("POST", "/api/jobs", sweep.user, json=body).status_code in (400, 404, 422)


def run_job(sweep: Sweep, job_input: dict) -> dict:
    """A summarize_document job through a real Celery worker on the SQLite broker; its finished document."""
    body = {"skill": "summarize_document", "input": job_input, "idempotency_key": "k-1"}
    # At DEBUG, as `switchboard worker` runs when LOG_LEVEL is DEBUG (the embedded worker would otherwise raise the
    # root logger to ERROR, and the worker's records would never be searched).
    celery_app = sweep.app.extensions["celery"]
    with start_worker(celery_app, perform_ping_check=False, shutdown_timeout=30, loglevel="DEBUG"):
        created = sweep.call("POST", "/api/jobs", sweep.user, json=body)
        assert created.status_code == 202, created.get_data(as_text=True)
        job_id = created.get_json()["id"]

        def ended():
            """The job once it has finished."""
            job = sweep.call("GET", f"/api/jobs/{job_id}", sweep.user).get_json()
            return job if job["status"] in ("succeeded", "failed", "cancelled") else None

        job = wait_for(ended, 30, interval=0.1, what="the job to end")
    sweep.call("GET", f"/api/jobs/{job_id}/events", sweep.user)
    sweep.call("GET", "/api/jobs", sweep.user)
    broker = sqlite_texts(sweep.tmp_path / "broker.sqlite")
    assert job_id in "".join(broker.values())  # the task went through the broker's tables
    return job


JOB_DOCUMENT = "\n\n".join(f"Paragraph {n}: {DOCUMENT}" for n in range(30))


def job_succeeds(sweep: Sweep) -> None:
    """A job whose steps all answer."""
    job = run_job(sweep, {"document": JOB_DOCUMENT})
    assert job["status"] == "succeeded" and job["usage"]["calls"] >= 1


def job_step_fails(sweep: Sweep) -> None:
    """A job whose step fails for good: the provider refuses the prompt, quoting it (not retryable)."""
    sweep.servers[0].fail_next(5, Fault.http_status(400, message=f"Invalid prompt: {DOCUMENT}"))
    job = run_job(sweep, {"document": JOB_DOCUMENT})
    assert job["status"] == "failed" and job["error"]["code"] == "provider_rejected_request", job


def job_with_every_model_failing(sweep: Sweep) -> None:
    """A job whose step finds every model failing on each of its tries, each provider quoting the prompt."""
    for server, status in zip(sweep.servers, (503, 529), strict=True):
        server.fail_next(10, Fault.http_status(status, message=f"overloaded while reading: {DOCUMENT}"))
    job = run_job(sweep, {"document": DOCUMENT})
    assert job["status"] == "failed" and job["error"]["code"] == "all_models_failed", job


def workbook_job_on_sentinel_sheets(sweep: Sweep) -> None:
    """analyze_workbook: sheet names, cells, formulas and number formats carrying the sentinel."""
    sheets = [{"name": f"{DOC} {n}", "range": SENTINEL_RANGE} for n in range(2)]
    body = {"skill": "analyze_workbook", "input": {"sheets": sheets, "instructions": DOC}}
    celery_app = sweep.app.extensions["celery"]
    with start_worker(celery_app, perform_ping_check=False, shutdown_timeout=30, loglevel="DEBUG"):
        job_id = sweep.call("POST", "/api/jobs", sweep.user, json=body).get_json()["id"]

        def ended():
            """The job once it has finished."""
            job = sweep.call("GET", f"/api/jobs/{job_id}", sweep.user).get_json()
            return job if job["status"] in ("succeeded", "failed", "cancelled") else None

        job = wait_for(ended, 30, interval=0.1, what="the job to end")
    assert job["status"] == "succeeded", job


def admin_sets_a_key(sweep: Sweep) -> None:
    """PATCH with a provider key (narrowing and a provider of the tenant's own), read back, audited, used, tested."""
    sweep.app.config["ALLOWED_MODEL_HOSTS"] = ["127.0.0.1"]
    own = {"name": "mine", "type": "openai", "base_url": sweep.servers[0].base_url, "api_key": TENANT_KEY,
           "models": [{"id": "gpt-test", "context_window": 32000, "location": "on-prem"}]}  # fmt: skip
    patch = {"providers": [{"name": "cheap", "api_key": TENANT_KEY}, own]}
    response = sweep.call("PATCH", "/api/admin/tenant", sweep.admin, json=patch)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert all(p["api_key_set"] for p in response.get_json()["providers"])
    sweep.servers[0].api_key = TENANT_KEY
    sweep.call("GET", "/api/admin/tenant", sweep.admin)
    sweep.call("GET", "/api/admin/catalog", sweep.admin)
    assert sweep.invoke("summarize", {"text": DOCUMENT}).status_code == 200
    assert sweep.call("POST", "/api/admin/providers/mine/test", sweep.admin).get_json()["ok"] is True
    sweep.servers[0].fail_next(1, Fault.http_status(401, message=f"Incorrect API key provided: {TENANT_KEY}"))
    tested = sweep.call("POST", "/api/admin/providers/cheap/test", sweep.admin).get_json()
    assert (tested["ok"], tested["error"]) == (False, "auth")
    # The key changed again, then cleared: both audited, neither value shown.
    patch = {"providers": [{"name": "cheap", "api_key": TENANT_KEY + "-2"}, {**own, "api_key": None}]}
    assert sweep.call("PATCH", "/api/admin/tenant", sweep.admin, json=patch).status_code == 200
    sweep.secrets["tenant_key_2"] = TENANT_KEY + "-2"
    events = sweep.call("GET", "/api/admin/audit", sweep.admin).get_json()["events"]
    assert [e["action"] for e in events].count("settings.providers") == 2


def admin_key_in_an_invalid_entry(sweep: Sweep) -> None:
    """422s where the key travels in an entry that is refused: nothing stored, audited, echoed or logged."""
    model = {"id": "gpt-test", "context_window": 32000}
    entries = [
        {
            "name": "mine",
            "type": "openai",
            "base_url": "https://not-allowed.example/v1",
            "api_key": TENANT_KEY,
            "models": [model],
        },  # fmt: skip
        {
            "name": "mine",
            "type": "openai",
            "base_url": f"https://user:{TENANT_KEY}@127.0.0.1/v1",
            "api_key": TENANT_KEY,
            "models": [model],
        },  # fmt: skip
        {"name": "mine", "type": "openai", "api_key": TENANT_KEY, "models": [model], "apikey": TENANT_KEY},
        {"name": "mine", "type": "openai", "api_key": TENANT_KEY, "models": []},
        {"name": "mine", "type": "openai", "api_key": TENANT_KEY * 200, "models": [model]},
        {"name": "cheap", "api_key": TENANT_KEY, "models": [{"id": "gpt-test", "price_per_million": {"input": -1}}]},
        {"name": "mine", "type": "nope", "api_key": TENANT_KEY, "models": [model]},
        {"name": f"Mine {TENANT_KEY}", "type": "openai", "api_key": TENANT_KEY, "models": [model]},
    ]
    sweep.app.config["ALLOWED_MODEL_HOSTS"] = ["127.0.0.1"]
    for entry in entries:
        response = sweep.call("PATCH", "/api/admin/tenant", sweep.admin, json={"providers": [entry]})
        assert response.status_code == 422, response.get_data(as_text=True)
        assert response.get_json()["error"]["code"] == "invalid_settings"
    events = sweep.call("GET", "/api/admin/audit", sweep.admin).get_json()["events"]
    assert events == []


def admin_pastes_a_key_into_the_wrong_field(sweep: Sweep) -> None:
    """422s whose field would be echoed if anything were: a base_url's host, lists of names, pins, a property the
    schema does not know."""
    pasted_host = "sk-pasted-sentinel-kiwi-4402"  # hosts are compared in lower case
    sweep.secrets["key pasted as a host"] = pasted_host
    own = {"name": "mine", "type": "openai", "base_url": f"https://{pasted_host}.example/v1", "api_key": TENANT_KEY,
           "models": [{"id": "gpt-test", "context_window": 32000}]}  # fmt: skip
    patches = [
        {"providers": [own]},
        {"providers": [{"name": "cheap", "allowed_models": [TENANT_KEY]}]},
        {"disabled_skills": [TENANT_KEY]},
        {"data_policy": {"confidential": {"providers": [TENANT_KEY]}}},
        {"routing": {"pins": {"summarize": [f"cheap/{TENANT_KEY}"]}}},
        {"routing": {"pins": {TENANT_KEY: [7]}}},
        {TENANT_KEY: "on\0prem"},
    ]
    for patch in patches:
        response = sweep.call("PATCH", "/api/admin/tenant", sweep.admin, json=patch)
        assert response.status_code == 422, response.get_data(as_text=True)
        assert response.get_json()["error"]["code"] == "invalid_settings"
    assert sweep.call("GET", "/api/admin/audit", sweep.admin).get_json()["events"] == []


def client_chosen_ids_carry_the_document(sweep: Sweep) -> None:
    """The document where a client chooses an id: a skill, job or provider id in the URL (within one segment, and
    across segments no route matches), the X-Request-ID header, and a job's idempotency key."""
    pasted = urllib.parse.quote(DOCUMENT)
    for path in (f"/api/skills/{pasted}/invoke", f"/api/skills/{pasted}/{pasted}/invoke"):
        assert sweep.call("POST", path, sweep.user, json={"input": {"text": "Hello."}}).status_code == 404
    assert sweep.call("GET", f"/api/jobs/{pasted}", sweep.user).status_code == 404
    assert sweep.call("POST", f"/api/jobs/{pasted}/cancel", sweep.user).status_code == 404
    assert sweep.call("POST", f"/api/admin/providers/{pasted}/test", sweep.admin).status_code == 404
    assert sweep.call("GET", "/api/me", {**sweep.user, "X-Request-ID": DOCUMENT}).status_code == 200
    job = {"skill": "summarize_document", "input": {"document": "A short text."}, "idempotency_key": DOCUMENT}
    assert sweep.call("POST", "/api/jobs", sweep.user, json=job).status_code == 422


def bad_bearer_tokens(sweep: Sweep) -> None:
    """Expired, foreign-signed, wrong-audience, unknown-kid and malformed tokens: 401, and none of them logged."""
    make_token = sweep.make_token
    past = int(time.time()) - 7200
    oid = str(uuid.uuid4())
    tokens = {
        "expired token": make_token(TENANT_A, oid, iat=past - 3600, nbf=past - 3600, exp=past),
        "foreign-signed token": make_token(TENANT_A, oid, key=sweep.stranger_key),
        "wrong-audience token": make_token(TENANT_A, oid, aud="api://someone-else"),
        "unknown-kid token": make_token(TENANT_A, oid, kid="kid-nobody-published"),
        "malformed token": f"Sentinel-Token-{DOC}.not-a-jwt",
    }
    for name, token in tokens.items():
        sweep.secrets[name] = token
        if token.count(".") == 2 and len(token.rsplit(".", 1)[1]) > 20:
            sweep.secrets[f"{name} signature"] = token.rsplit(".", 1)[1]
        for path in ("/api/me", "/api/skills/summarize/invoke", "/api/admin/tenant"):
            method = "POST" if path.endswith("invoke") else "GET"
            response = sweep.call(method, path, bearer(token), json={"input": {"text": DOCUMENT}})
            assert response.status_code == 401, (name, response.get_data(as_text=True))
    assert sweep.call("GET", "/api/me", sweep.user).status_code == 200


FLOWS = [
    invoke_succeeds,
    every_model_fails,
    provider_rejects_the_prompt,
    stream_breaks_midway,
    structured_answer_stays_invalid,
    excel_skills_run_on_sentinel_cells,
    input_is_refused,
    refusals_by_limits,
    job_succeeds,
    job_step_fails,
    job_with_every_model_failing,
    workbook_job_on_sentinel_sheets,
    admin_sets_a_key,
    admin_key_in_an_invalid_entry,
    admin_pastes_a_key_into_the_wrong_field,
    client_chosen_ids_carry_the_document,
    bad_bearer_tokens,
]


@pytest.mark.parametrize("flow", FLOWS, ids=[flow.__name__ for flow in FLOWS])
def test_no_sentinel_reaches_a_sink(sweep, flow):
    flow(sweep)
    sweep.assert_clean()


class TestDriveItemJob:
    """A job reading a OneDrive/SharePoint file: the OBO exchange (client secret), the Graph token, and Graph's
    redirect to a pre-authenticated download URL, whose `tempauth` query parameter is a credential for the file."""

    TEMPAUTH = "Sentinel-TempAuth-eyJ0eXAiOiJKV1Qi-9931"

    @pytest.fixture
    def entra(self, signing_key):  # noqa: F811
        """A loopback Entra standing in for the real https authority (MSAL accepts only https)."""
        with FakeEntra(public_base=PUBLIC_AUTHORITY) as fake:
            fake.publish(signing_key, SIGNING_KID)
            yield fake

    @pytest.fixture
    def http_client(self, entra):
        """MSAL's injected HTTP client, sending the authority's requests to the loopback Entra."""
        with LoopbackSession(entra.base_url) as session:
            yield session

    @pytest.fixture
    def graph(self, entra):
        """The loopback Graph, accepting the access tokens the fake Entra issued; downloads carry `tempauth`."""
        with FakeGraph(token_owner=entra.issued_access_tokens.get) as fake:
            fake.tempauth = self.TEMPAUTH
            yield fake

    @pytest.fixture
    def app_config(self, app_config, entra, http_client, graph):
        """The sweep's configuration, production-shaped for on-behalf-of calls, Graph on loopback."""
        return {**obo_app_config(app_config, entra, http_client), "GRAPH_BASE_URL": graph.base_url}

    def run_drive_item_job(self, sweep, entra, graph) -> None:
        """A summary of a file named by its drive item, through the worker; every secret it involved is a sentinel."""
        graph.add("b!drive-01", "01REPORT", DriveItem(USER_OID, "Report.txt", JOB_DOCUMENT.encode()))
        sweep.secrets.update(tempauth=self.TEMPAUTH, client_secret=sweep.app.config["ENTRA_CLIENT_SECRET"])
        job = run_job(sweep, {"drive_item": {"drive_id": "b!drive-01", "item_id": "01REPORT"}})
        assert job["status"] == "succeeded", job
        assert graph.paths("/download/") and entra.issued_access_tokens  # the redirect was followed, OBO happened
        for number, token in enumerate(entra.issued_access_tokens):
            sweep.secrets[f"graph token {number}"] = token

    def test_no_secret_of_the_file_reaches_a_sink(self, sweep, entra, graph):
        self.run_drive_item_job(sweep, entra, graph)
        sweep.assert_clean()

    def test_the_sweep_reports_the_download_url_when_urllib3_logs_at_debug(self, sweep, entra, graph):
        """As before urllib3 joined backend.logs.PAYLOAD_LOGGERS: its DEBUG line names the URL with its query."""
        urllib3_logger = logging.getLogger("urllib3")
        level = urllib3_logger.level
        urllib3_logger.setLevel(logging.NOTSET)
        try:
            self.run_drive_item_job(sweep, entra, graph)
        finally:
            urllib3_logger.setLevel(level)
        assert any(found.startswith("tempauth in log record") for found in sweep.leaks())


# -- the sweep can fail: each variant below reintroduces one plausible leak, and the sweep must report it where it
# lands. (Metrics are not planted: the Prometheus registry is process-wide, and a planted label would stay.)


def leak_provider_messages(sweep: Sweep, monkeypatch) -> None:
    """ProviderErrors keep the SDK's message (which quotes the provider's error body), and attempts show it."""
    from backend import dispatch
    from backend.jobs import model_calls
    from backend.providers import sk_chat
    from backend.providers.base import ProviderError
    from backend.routing import failures

    real_map, real_attempt = sk_chat.map_exception, failures.attempt_error

    def leaky_map(exc, where, before_first_token=False):
        """The clean error, its message extended with the SDK's."""
        error = real_map(exc, where, before_first_token)
        return ProviderError(error.kind, f"{error}: {exc}", error.status, error.retry_after, error.usage)

    def leaky_stop(decision, error):
        """stop_error whose message is the provider's."""
        return failures.ApiError(502, failures.STOP_CODES.get(error.kind, "provider_error"), str(error))

    monkeypatch.setattr(sk_chat, "map_exception", leaky_map)
    monkeypatch.setattr(dispatch, "attempt_error", lambda model, error: {**real_attempt(model, error), "m": str(error)})
    monkeypatch.setattr(model_calls, "stop_error", leaky_stop)


def log_the_prompt(sweep: Sweep, monkeypatch) -> None:
    """The dispatcher logs the prompt at DEBUG."""
    from backend import dispatch

    real = dispatch.count_prompt_tokens

    def leaky(texts):
        """Count, after logging what is counted."""
        logging.getLogger("backend.dispatch").debug("counting the prompt %s", texts)
        return real(texts)

    monkeypatch.setattr(dispatch, "count_prompt_tokens", leaky)


def audit_the_key(sweep: Sweep, monkeypatch) -> None:
    """The audit log keeps each change's request body, unredacted."""
    from flask import request

    from backend.admin import audit

    real = audit.record

    def leaky(tenant_id, actor, action, target="", before=None, after=None):
        """Record the body that made the change as its `after`."""
        real(tenant_id, actor, action, target, before, request.get_json())

    monkeypatch.setattr(audit, "redact", lambda value: value)
    monkeypatch.setattr(audit, "record", leaky)


def log_the_authorization_header(sweep: Sweep, monkeypatch) -> None:
    """A request hook logs the Authorization header at DEBUG."""
    from flask import request

    sweep.app.before_request(
        lambda: logging.getLogger("backend").debug("auth %s", request.headers.get("Authorization"))
    )


def log_the_path_as_sent(sweep: Sweep, monkeypatch) -> None:
    """The access line shows the request's path as the client sent it."""
    from flask import request

    from backend import logs

    monkeypatch.setattr(logs, "access_path", lambda: request.path)


LEAKY_VARIANTS = [  # (the leak, a flow where it shows, [(the report's start, a word of the sink)...])
    (
        leak_provider_messages,
        every_model_fails,
        [("document in response", "body"), ("document in table", "skill_runs")],
    ),
    (leak_provider_messages, provider_rejects_the_prompt, [("tenant_key in response", "body")]),
    (leak_provider_messages, job_step_fails, [("document in table jobs", ""), ("document in response", "error")]),
    (log_the_prompt, invoke_succeeds, [("document in log record", "backend.dispatch")]),
    (audit_the_key, admin_sets_a_key, [("tenant_key in GET /api/admin/audit", ""), ("tenant_key in table", "audit")]),
    (log_the_authorization_header, bad_bearer_tokens, [("expired token in log record", "backend")]),
    (log_the_path_as_sent, client_chosen_ids_carry_the_document, [("document in log record", "switchboard.access")]),
]


@pytest.mark.parametrize(
    ("leak", "flow", "expected"),
    LEAKY_VARIANTS,
    ids=[f"{leak.__name__}-{flow.__name__}" for leak, flow, _ in LEAKY_VARIANTS],
)
def test_the_sweep_reports_a_deliberate_leak(sweep, monkeypatch, leak, flow, expected):
    leak(sweep, monkeypatch)
    flow(sweep)
    leaks = sweep.leaks()
    for start, where in expected:
        assert any(found.startswith(start) and where in found for found in leaks), (start, where, leaks)
