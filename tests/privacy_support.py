"""The privacy sweep's harness, shared by tests/test_privacy_sweep.py (interactive flows: invoke, admin, tokens,
client-chosen ids) and tests/test_privacy_sweep_jobs.py (jobs through a real Celery worker).

Each flow runs with sentinel document text and sentinel secrets (a tenant's provider key, the platform's key, the Entra
bearer tokens themselves, and for a drive-item job the app's client secret, the Graph tokens and Graph's
pre-authenticated download URL); a `Sweep` drives it through the test client, keeps every response, then searches
every place that must not hold them.

Sinks: every log record at DEBUG (its message, its extra fields, the messages of the exceptions it carries, and the
lines the product's JSON and plain formatters write for it), every response's headers, every error body, every SSE
`error` event and job `error` field, GET /metrics, GET /api/admin/audit, every row of every table except the columns
meant to hold a job's content (so SkillRun metering rows, audit events, job errors, budget, rate-limit and circuit
rows), and the tables of the embedded SQLite Celery broker and result store (kombu message bodies decoded). A
successful answer may carry document text (it is the answer), never a secret.

Each module ends with tests showing the sweep can fail: each reintroduces one plausible leak and expects the sweep to
report it where it lands.
"""

from __future__ import annotations

import base64
import json
import logging
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from backend.extensions import db
from backend.log_format import JsonFormatter, PlainFormatter
from tests.auth_fixtures import TENANT_A, bearer
from tests.fakes.harness import TEST_KEY
from tests.test_invoke import providers_config

TENANT_KEY = "sk-tenant-Sentinel-Kiwi-4402"
DOC = "Sentinel-Quokka-7731"
DOCUMENT = f"The {DOC} merger terms are confidential and the price is 41 million."
USER_OID = "0b1c2d3e-0000-4000-8000-000000000001"
ADMIN_OID = "0b1c2d3e-0000-4000-8000-000000000002"
# A sheet whose cells, formulas, number formats, address and sheet name all carry the sentinel.
SHEET = f"'{DOC} Q3'"
SENTINEL_RANGE = {
    "address": f"{SHEET}!A1:C3",
    "values": [["Client", "Signed", "Amount"], [DOC, 45292, 41], [f"{DOC} Ltd", "n/a", f"={DOC}"]],
    "formulas": [["Client", "Signed", "Amount"], [DOC, 45292, f"=SUM({SHEET}!C2:C2)"], [f"{DOC} Ltd", "n/a", "=C2*2"]],
    "number_formats": [[None, None], [None, "yyyy-mm-dd"], [None, DOC[:20]]],
}
# Columns whose purpose is to hold a job's content (its input, its answer, its steps' answers) for its owner.
CONTENT_COLUMNS = {("jobs", "input_compressed"), ("jobs", "output"), ("job_steps", "result")}
PLAIN = PlainFormatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")


@pytest.fixture
def app_config(app_config, entra, servers, tmp_path, monkeypatch):
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
def sweep(app, client, caplog, tmp_path, servers, make_token, stranger_key, tenants) -> Sweep:
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


@dataclass
class Sweep:
    """Drives a flow through the test client, keeping every response, then searches every sink for the sentinels.

    Secrets (keys, tokens) must appear in no sink at all. Document text may appear only where an answer is meant to
    carry it: the body of a successful response (the skill's output, a job's output); never in an error body, an SSE
    `error` event, a job's `error`, a header, a log record, a metric, the audit log or a row that is not content.
    """

    app: object
    client: object
    caplog: pytest.LogCaptureFixture
    tmp_path: Path
    servers: tuple
    user: dict[str, str]
    admin: dict[str, str]
    make_token: Callable[..., str]
    stranger_key: object  # a signing key nobody publishes
    secrets: dict[str, str] = field(default_factory=dict)  # name -> value: nowhere at all
    content: dict[str, str] = field(default_factory=dict)  # name -> value: only in successful answers
    sinks: dict[str, str] = field(default_factory=dict)  # name -> text that holds neither
    answers: dict[str, str] = field(default_factory=dict)  # name -> successful bodies: may hold content
    calls: int = 0

    def call(self, method: str, path: str, headers: dict[str, str] | None = None, **kwargs):
        """One request; its status, headers and whole body (a stream read to its end) are kept for the search."""
        response = self.client.open(path, method=method, headers=headers or {}, **kwargs)
        body = response.get_data(as_text=True)
        self.calls += 1
        label = f"response {self.calls}: {method} {path} -> {response.status_code}"
        self.sinks[f"{label} headers"] = str(response.headers)
        if response.status_code >= 400:
            self.sinks[f"{label} body"] = body
            return response
        self.answers[f"{label} body"] = body
        for number, event in enumerate(error_events(body)):
            self.sinks[f"{label} SSE error event {number}"] = json.dumps(event)
        document = response.get_json(silent=True)
        for job in document.get("jobs", [document]) if isinstance(document, dict) else []:
            if isinstance(job, dict) and job.get("error") is not None:
                self.sinks[f"{label} job {job.get('id')} error"] = json.dumps(job["error"])
        return response

    def invoke(self, skill: str, data: dict, stream: bool = False, headers: dict[str, str] | None = None):
        """POST an invoke as the user, JSON or SSE."""
        accept = "text/event-stream" if stream else "application/json"
        body = {"input": data}
        return self.call("POST", f"/api/skills/{skill}/invoke", {**(headers or self.user), "Accept": accept}, json=body)

    def use_tenant_key(self) -> None:
        """The tenant brings its own key for the cheap provider; the fake now accepts only that key."""
        narrowing = {"providers": [{"name": "cheap", "api_key": TENANT_KEY}]}
        response = self.call("PATCH", "/api/admin/tenant", self.admin, json=narrowing)
        assert response.status_code == 200, response.get_data(as_text=True)
        self.servers[0].api_key = TENANT_KEY

    # -- the sinks ------------------------------------------------------------------------------------------------
    def stored_sinks(self) -> dict[str, str]:
        """The sinks read at the end: log records, metrics, the audit log, the database, the broker and results."""
        found = {}
        for index, record in enumerate(self.caplog.records):
            found[f"log record {index} ({record.name})"] = log_texts(record)
        found["GET /metrics"] = self.client.get("/metrics").get_data(as_text=True)
        found["GET /api/admin/audit"] = self.client.get("/api/admin/audit", headers=self.admin).get_data(as_text=True)
        with self.app.app_context():
            found.update(database_texts(db.engine))
        for name in ("broker.sqlite", "results.sqlite"):
            found.update(sqlite_texts(self.tmp_path / name))
        return found

    def leaks(self) -> list[str]:
        """(sentinel, sink) pairs where a sentinel was found, with a little context."""
        searches = [
            ({**self.sinks, **self.stored_sinks()}, {**self.secrets, **self.content}),
            (self.answers, self.secrets),
        ]
        problems = []
        for sinks, sentinels in searches:
            for sink, content in sinks.items():
                for name, value in sentinels.items():
                    at = content.find(value)
                    if at >= 0:
                        problems.append(f"{name} in {sink}: ...{content[max(0, at - 120) : at + 60]!r}...")
        return problems

    def assert_clean(self) -> None:
        """No sentinel anywhere it must not be; logging was on at DEBUG while the flow ran."""
        assert self.app.config["LOG_LEVEL"] == "DEBUG" and logging.getLogger("backend").isEnabledFor(logging.DEBUG)
        assert self.caplog.records, "no log record was captured"
        leaks = self.leaks()
        assert not leaks, "sentinels leaked:\n" + "\n".join(leaks)


def log_texts(record: logging.LogRecord) -> str:
    """A log record as every handler could write it: message, extra fields, exception messages of its trace, and the
    lines of the product's JSON and plain formatters."""
    fields = {k: v for k, v in vars(record).items() if k not in ("exc_info", "exc_text", "msg", "args")}
    parts = [record.getMessage(), repr(fields), JsonFormatter().format(record), PLAIN.format(record)]
    if record.exc_info and record.exc_info[1] is not None:
        parts.append(exception_messages(record.exc_info[1]))
    return "\n".join(parts)


def exception_messages(error: BaseException) -> str:
    """The messages of an exception and of those that led to it (a handler without our formatter prints them)."""
    seen, texts = [], []
    while error is not None and error not in seen:
        seen.append(error)
        texts.append(f"{type(error).__name__}: {error}")
        error = error.__cause__ or (None if error.__suppress_context__ else error.__context__)
    return "\n".join(texts)


def database_texts(engine) -> dict[str, str]:
    """Every row of every table of the app's database, by table, leaving out the columns meant to hold content."""
    found = {}
    with engine.connect() as connection:
        for table in inspect(connection).get_table_names():
            rows = connection.execute(text(f'SELECT * FROM "{table}"')).mappings().all()  # noqa: S608 - its own names
            kept = [{k: v for k, v in row.items() if (table, k) not in CONTENT_COLUMNS} for row in rows]
            found[f"table {table}"] = repr(kept)
    return found


def sqlite_texts(path: Path) -> dict[str, str]:
    """Every row of a SQLite file (the Celery broker or result store), kombu message bodies decoded."""
    if not path.exists():
        return {}
    found = {}
    with sqlite3.connect(path) as connection:
        tables = [row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            rows = connection.execute(f'SELECT * FROM "{table}"').fetchall()  # noqa: S608 - the file's own names
            found[f"{path.name} table {table}"] = "\n".join(decoded_row(row) for row in rows)
    return found


def decoded_row(row: tuple) -> str:
    """A row as text, with the base64 body of a kombu message payload decoded beside it."""
    texts = []
    for value in row:
        value = value.decode(errors="replace") if isinstance(value, bytes) else value
        texts.append(repr(value))
        try:
            payload = json.loads(value) if isinstance(value, str) else None
        except ValueError:
            payload = None
        if isinstance(payload, dict) and isinstance(payload.get("body"), str):
            try:
                texts.append(base64.b64decode(payload["body"]).decode(errors="replace"))
            except ValueError:
                pass
    return " | ".join(texts)


def error_events(body: str) -> list[dict]:
    """The data of the SSE `error` events of a body."""
    events = []
    for block in body.split("\n\n"):
        lines = block.splitlines()
        if "event: error" in lines:
            events.append(json.loads("".join(line[6:] for line in lines if line.startswith("data: "))))
    return events


# -- deliberate leaks: the sweep must report them -------------------------------------------------------------------


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


def assert_leak_reported(sweep: Sweep, monkeypatch, leak, flow, expected) -> None:
    """Plant the leak, run the flow: the sweep reports it, each (report's start, a word of the sink) in expected."""
    leak(sweep, monkeypatch)
    flow(sweep)
    leaks = sweep.leaks()
    for start, where in expected:
        assert any(found.startswith(start) and where in found for found in leaks), (start, where, leaks)
