"""Pooled PostgreSQL connections: pinged before use only after sitting idle (backend.database.ping_when_idle)."""

from __future__ import annotations

import socket
import threading
import time

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from backend import database
from backend.database import build_engine
from tests.postgres import admin_url

pytestmark = pytest.mark.postgres


@pytest.fixture
def url() -> str:
    return admin_url().render_as_string(hide_password=False)


def backend_pid(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT pg_backend_pid()")).scalar_one()


def terminate(pid: int) -> None:
    """Close one server connection from the server side, as a database restart or an idle timeout would."""
    admin = create_engine(admin_url(), isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as conn:
        assert conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar_one()
    admin.dispose()
    time.sleep(0.1)  # the backend exits asynchronously


def counting_pings(engine) -> list[int]:
    """Count the dialect's pings on this engine."""
    pings: list[int] = []
    ping = engine.dialect.do_ping

    def counted(dbapi_connection):
        pings.append(1)
        return ping(dbapi_connection)

    engine.dialect.do_ping = counted
    return pings


@pytest.mark.parametrize("autocommit", [False, True])
def test_a_connection_in_steady_use_is_not_pinged_and_an_idle_one_is(url, monkeypatch, autocommit):
    monkeypatch.setattr(database, "IDLE_PING_SECONDS", 0.5)
    engine = build_engine(url, autocommit=autocommit)
    pings = counting_pings(engine)
    try:
        for _ in range(20):
            backend_pid(engine)
        assert pings == []  # a fresh connection, then one returned milliseconds earlier each time
        time.sleep(0.6)
        backend_pid(engine)
        assert pings == [1]
    finally:
        engine.dispose()


def test_an_idle_connection_closed_by_the_server_is_replaced_before_use(url, monkeypatch):
    monkeypatch.setattr(database, "IDLE_PING_SECONDS", 0.3)
    engine = build_engine(url, autocommit=True)
    try:
        killed = backend_pid(engine)
        terminate(killed)
        time.sleep(0.3)
        assert backend_pid(engine) != killed  # no error reached the caller: the ping failed, the pool reconnected
    finally:
        engine.dispose()


def test_a_busy_connection_closed_by_the_server_fails_once_then_the_pool_recovers(url):
    """The trade-off of skipping the ping under load, pinned: one statement fails, the next ones work."""
    engine = build_engine(url, autocommit=True)
    try:
        killed = backend_pid(engine)
        terminate(killed)
        with pytest.raises(DBAPIError) as failure:
            backend_pid(engine)
        assert failure.value.connection_invalidated
        assert backend_pid(engine) != killed
    finally:
        engine.dispose()


def test_commit_if_open_commits_the_requests_session_and_makes_none_when_there_is_none(app):
    from flask import g

    from backend.extensions import db
    from backend.models import Tenant

    with app.app_context():
        db.commit_if_open()
        assert "db_session" not in g  # nothing read from the database: no session made only to be committed
        db.session.add(Tenant(id="aaaaaaaa-0000-4000-8000-0000000000c1", name="Contoso", status="active"))
        db.commit_if_open()
    with app.app_context():
        assert db.session.get(Tenant, "aaaaaaaa-0000-4000-8000-0000000000c1").name == "Contoso"  # it was committed


def connect_error_within(url: str, seconds: float) -> BaseException:
    """The error the engine gives up with on a server that never answers; fails if it is still trying after `seconds`
    (on a thread: a hang inside libpq's C code would also block pytest-timeout's alarm)."""
    engine = build_engine(url)
    errors: list[BaseException] = []

    def connect() -> None:
        try:
            engine.connect().close()
        except DBAPIError as exc:
            errors.append(exc)

    connecting = threading.Thread(target=connect, daemon=True)
    connecting.start()
    connecting.join(seconds)
    assert errors, f"still connecting after {seconds:.0f}s"
    engine.dispose()
    return errors[0]


def test_a_server_that_never_answers_fails_the_connect_instead_of_hanging(monkeypatch, silent_port):
    """libpq waits forever by default for a server that accepts TCP and says nothing; the engine gives up."""
    monkeypatch.setattr(database, "POSTGRES_CONNECT_TIMEOUT_SECONDS", 1)
    error = connect_error_within(f"postgresql+psycopg2://u:p@127.0.0.1:{silent_port}/x", 5)
    assert "timeout expired" in str(error)


def test_a_connect_timeout_in_the_url_wins(monkeypatch, silent_port):
    """An operator's own `?connect_timeout=` is used as written."""
    monkeypatch.setattr(database, "POSTGRES_CONNECT_TIMEOUT_SECONDS", 60)
    error = connect_error_within(f"postgresql+psycopg2://u:p@127.0.0.1:{silent_port}/x?connect_timeout=1", 5)
    assert "timeout expired" in str(error)
