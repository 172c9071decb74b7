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
