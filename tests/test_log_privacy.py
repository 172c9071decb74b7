"""Logs at DEBUG hold no document text and no key: the SDKs log request bodies (prompts) and headers at DEBUG."""

from __future__ import annotations

import logging

import pytest

from tests.auth_fixtures import TENANT_A, bearer, entra, make_token, signing_key, tenants  # noqa: F401
from tests.fakes import Fault
from tests.fakes.harness import TEST_KEY
from tests.test_invoke import providers_config, servers  # noqa: F401

DOCUMENT = "Sentinel-Zebra-8841 merger terms are confidential"
TENANT_KEY = "sk-tenant-sentinel-key-5521"


@pytest.fixture
def app_config(app_config, entra, servers, tmp_path, monkeypatch):  # noqa: F811
    """The invoke tests' providers, logging at DEBUG as an operator chasing a problem would."""
    config = providers_config(app_config, entra, servers, tmp_path, monkeypatch)
    return {**config, "LOG_LEVEL": "DEBUG", "LOG_JSON": True}


def test_debug_logs_hold_no_document_text_and_no_key(client, make_token, tenants, servers, caplog):  # noqa: F811
    caplog.set_level(logging.DEBUG)
    user = bearer(make_token(TENANT_A, "0b1c2d3e-0000-4000-8000-000000000001"))
    admin = bearer(make_token(TENANT_A, "0b1c2d3e-0000-4000-8000-000000000002", roles=["Tenant.Admin"]))
    narrowing = {"providers": [{"name": "cheap", "api_key": TENANT_KEY}]}
    assert client.patch("/api/admin/tenant", json=narrowing, headers=admin).status_code == 200
    servers[0].api_key = TENANT_KEY  # the fake now expects the tenant's own key
    for accept in ("application/json", "text/event-stream"):
        headers = {**user, "Accept": accept}
        response = client.post("/api/skills/summarize/invoke", json={"input": {"text": DOCUMENT}}, headers=headers)
        assert response.status_code == 200, response.get_data(as_text=True)
        response.get_data()  # the whole stream
    servers[0].fail_next(1, Fault.server_error(500))  # a fallback to Anthropic, with its own SDK's logs
    response = client.post("/api/skills/summarize/invoke", json={"input": {"text": DOCUMENT}}, headers=user)
    assert response.status_code == 200 and response.get_json()["model"]["provider"] == "claude"
    # DEBUG was on (no DEBUG line is certain: urllib3's are held at INFO, and asyncio's is written once per process)
    assert logging.getLogger("backend").isEnabledFor(logging.DEBUG) and caplog.handler.level <= logging.DEBUG
    logged = "\n".join(f"{r.name} {r.getMessage()} {vars(r)}" for r in caplog.records)
    assert "Sentinel-Zebra" not in logged
    assert TENANT_KEY not in logged and TEST_KEY not in logged


def test_sql_echo_and_database_errors_hold_no_parameters(tmp_path, caplog):
    """SQLALCHEMY_ECHO logs every statement: its parameters (job inputs and outputs are document text) stay out."""
    from sqlalchemy import text
    from sqlalchemy.exc import IntegrityError

    from backend.database import build_engine

    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")
    engine = build_engine(f"sqlite:///{tmp_path / 'echo.sqlite'}", echo=True)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (v TEXT UNIQUE)"))
        conn.execute(text("INSERT INTO t VALUES (:v)"), {"v": DOCUMENT})
    with pytest.raises(IntegrityError) as raised, engine.begin() as conn:
        conn.execute(text("INSERT INTO t VALUES (:v)"), {"v": DOCUMENT})
    assert any("INSERT INTO t" in r.getMessage() for r in caplog.records)  # echo was on
    assert "Sentinel-Zebra" not in "\n".join(r.getMessage() for r in caplog.records)
    assert "Sentinel-Zebra" not in str(raised.value)


def test_the_openai_sdks_http_client_stays_at_info_when_the_app_logs_at_debug(caplog):
    """The OpenAI SDK sends through httpx2 and httpcore2 (its own fork of httpx), whose DEBUG lines show every
    response's headers (a hosted provider's session cookies among them): held at INFO like httpx and httpcore."""
    from openai import OpenAI

    from backend.logs import PAYLOAD_LOGGERS, configure_logging
    from tests.fakes.openai_server import FakeOpenAI

    levels = {name: logging.getLogger(name).level for name in ("", *PAYLOAD_LOGGERS, "httpx2", "httpcore2")}
    caplog.set_level(logging.DEBUG)
    configure_logging("DEBUG")
    try:
        with FakeOpenAI(default_reply="fine") as server:
            client = OpenAI(base_url=server.base_url, api_key=TEST_KEY, max_retries=0)
            client.chat.completions.create(model="m", messages=[{"role": "user", "content": DOCUMENT}])
            client.close()
    finally:
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)
    assert any(r.name == "httpx2" for r in caplog.records)  # the SDK's client logged its request line (INFO)
    http_client = ("httpx", "httpcore")  # and their forks' names, httpx2 and httpcore2
    debug = [r.getMessage() for r in caplog.records if r.name.startswith(http_client) and r.levelno < logging.INFO]
    assert debug == []


def test_the_http_clients_request_lines_show_no_credentials_of_a_provider_url(caplog):
    """httpx and httpx2 log every request's URL at INFO: a self-hosted provider's base URL may carry a password
    (`https://user:password@host/v1`) or a key in its query; the line keeps the method, host, path and status only."""
    from openai import OpenAI

    from backend.logs import configure_logging
    from tests.fakes.openai_server import FakeOpenAI

    caplog.set_level(logging.INFO)
    configure_logging("INFO")
    with FakeOpenAI(default_reply="fine") as server:
        host = server.url.removeprefix("http://")
        client = OpenAI(
            base_url=f"http://user:pw-Sentinel-4417@{host}/v1?key=q-Sentinel-4417", api_key="k", max_retries=0
        )
        with pytest.raises(Exception):  # noqa: B017,PT011 - the query lands inside the path: 404, whatever the SDK
            client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])
        client.close()
    lines = [r.getMessage() for r in caplog.records if r.name in ("httpx", "httpx2")]
    assert any(f"POST http://{host}/v1/" in line for line in lines), lines  # the request line is still there
    assert not any("Sentinel-4417" in line for line in lines), lines
