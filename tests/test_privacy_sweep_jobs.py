"""The sentinel sweep over jobs run by a real Celery worker on the embedded SQLite broker (the harness and its sinks:
tests/privacy_support.py; interactive flows: tests/test_privacy_sweep.py).

Flows: jobs that succeed, whose step fails for good, whose every model fails, over sentinel workbook sheets, and over
a OneDrive file (the OBO exchange's client secret, the Graph tokens and Graph's pre-authenticated download URL).

The last tests show the sweep can fail: each reintroduces one plausible leak and expects the sweep to report it.
"""

from __future__ import annotations

import logging

import pytest
from celery.contrib.testing.worker import start_worker

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
from tests.jobs_support import wait_for
from tests.privacy_support import (  # noqa: F401
    DOC,
    DOCUMENT,
    SENTINEL_RANGE,
    USER_OID,
    Sweep,
    app_config,
    assert_leak_reported,
    leak_provider_messages,
    sqlite_texts,
    sweep,
)
from tests.test_auth_obo import PUBLIC_AUTHORITY, LoopbackSession, obo_app_config
from tests.test_invoke import servers  # noqa: F401

# -- the flows -----------------------------------------------------------------------------------------------------


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


FLOWS = [
    job_succeeds,
    job_step_fails,
    job_with_every_model_failing,
    workbook_job_on_sentinel_sheets,
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


# -- the sweep can fail: the variant below reintroduces one plausible leak, and the sweep must report it where it
# lands.

LEAKY_VARIANTS = [  # (the leak, a flow where it shows, [(the report's start, a word of the sink)...])
    (leak_provider_messages, job_step_fails, [("document in table jobs", ""), ("document in response", "error")]),
]


@pytest.mark.parametrize(
    ("leak", "flow", "expected"),
    LEAKY_VARIANTS,
    ids=[f"{leak.__name__}-{flow.__name__}" for leak, flow, _ in LEAKY_VARIANTS],
)
def test_the_sweep_reports_a_deliberate_leak(sweep, monkeypatch, leak, flow, expected):  # noqa: F811
    assert_leak_reported(sweep, monkeypatch, leak, flow, expected)
