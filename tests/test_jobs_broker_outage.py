"""Submitting a job while the broker is in trouble, as the user who waits on `POST /api/jobs` sees it: a broker host
that accepts and never answers costs one connect timeout, not one per publish retry (the job is stored and stays
queued for `switchboard jobs requeue`). That a dropped connection is still retried: tests/test_celery.py."""

from __future__ import annotations

import pytest

from backend.tasks import celery_app
from tests.auth_fixtures import TENANT_A, bearer, entra, entra_app_config, make_token, signing_key, tenants  # noqa: F401
from tests.jobs_support import post_summary_job
from tests.test_postgres_keepalives import gives_up_within

CONNECT_TIMEOUT = 3  # seconds: libpq's connect_timeout (from the broker URL), Redis' socket timeouts
SILENT_BROKERS = {
    "sqla-postgresql": lambda port: (
        f"sqla+postgresql+psycopg2://u:p@127.0.0.1:{port}/x?connect_timeout={CONNECT_TIMEOUT}"
    ),
    "redis": lambda port: f"redis://127.0.0.1:{port}/0",
}


@pytest.fixture(params=list(SILENT_BROKERS))
def app_config(request, app_config, entra, silent_port, monkeypatch):  # noqa: F811
    """An Entra-configured app whose broker is a host that accepts TCP and never says a word."""
    monkeypatch.setattr(celery_app, "REDIS_SOCKET_TIMEOUT_SECONDS", CONNECT_TIMEOUT)
    return {**entra_app_config(app_config, entra), "BROKER_URL": SILENT_BROKERS[request.param](silent_port)}


def test_a_silent_broker_host_delays_the_submit_by_one_connect_timeout_only(client, tenants, make_token):  # noqa: F811
    """Celery's publish retry would wait out the timeout again (PostgreSQL), or the reply forever (Redis)."""
    token = make_token(TENANT_A)
    assert client.get("/api/jobs", headers=bearer(token)).status_code == 200  # the token's keys fetched: not timed
    response, elapsed = gives_up_within(lambda: post_summary_job(client, token), 4 * CONNECT_TIMEOUT)
    assert response.status_code == 202, response.get_json()
    assert elapsed < 1.5 * CONNECT_TIMEOUT, f"the submit took {elapsed:.1f}s"
    job = client.get(f"/api/jobs/{response.get_json()['id']}", headers=bearer(token)).get_json()
    assert job["status"] == "queued"  # stored, for `switchboard jobs requeue` once the broker answers
