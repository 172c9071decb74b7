"""Every PostgreSQL engine Switchboard creates (the app's two, the migrations', the Celery result store's and the SQL
broker's) sets TCP keepalives and a TCP user timeout on its sockets, read back from the kernel, and gives up on a
silent host instead of hanging."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable

import pytest
from sqlalchemy import Engine, make_url, text
from sqlalchemy.exc import OperationalError

from backend import create_app, database
from backend.database import POSTGRES_KEEPALIVE_OPTIONS, build_engine
from backend.jobs.submit import enqueue
from backend.migrate import migration_engine
from backend.tasks.broker import touch_sql_broker
from tests.postgres import admin_url

pytestmark = pytest.mark.postgres

# What the defaults must add up to: a dead peer noticed within a minute.
DEFAULTS = {
    "keepalive": 1,
    "idle": POSTGRES_KEEPALIVE_OPTIONS["keepalives_idle"],
    "interval": POSTGRES_KEEPALIVE_OPTIONS["keepalives_interval"],
    "count": POSTGRES_KEEPALIVE_OPTIONS["keepalives_count"],
    "user_timeout_ms": POSTGRES_KEEPALIVE_OPTIONS["tcp_user_timeout"],
}


@pytest.fixture
def url() -> str:
    return admin_url().render_as_string(hide_password=False)


def tcp_options(dbapi_connection) -> dict[str, int]:
    """The keepalive options of a psycopg2 connection's socket, as the kernel has them."""
    with socket.socket(fileno=os.dup(dbapi_connection.fileno())) as sock:
        assert sock.family in (socket.AF_INET, socket.AF_INET6), "the test server must be reached over TCP"
        return {
            "keepalive": sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE),
            "idle": sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE),
            "interval": sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL),
            "count": sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT),
            "user_timeout_ms": sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT),
        }


def engine_tcp_options(engine: Engine) -> dict[str, int]:
    """The options of a fresh connection of an engine, after a round trip on it."""
    with engine.connect() as connection:
        assert connection.execute(text("SELECT 1")).scalar_one() == 1
        return tcp_options(connection.connection.dbapi_connection)


def test_the_defaults_notice_a_dead_peer_within_a_minute():
    """Idle probing plus its unanswered probes, and unacknowledged data, each give up within 30-60 s."""
    assert 30 <= DEFAULTS["idle"] + DEFAULTS["interval"] * DEFAULTS["count"] <= 60
    assert 30_000 <= DEFAULTS["user_timeout_ms"] <= 60_000


@pytest.mark.parametrize("autocommit", [False, True])
def test_the_apps_engines_set_keepalives_on_their_sockets(url, autocommit):
    engine = build_engine(url, autocommit=autocommit)
    try:
        assert engine_tcp_options(engine) == DEFAULTS
    finally:
        engine.dispose()


def test_an_option_in_the_url_wins_over_the_default(url):
    """An operator's own `?keepalives_idle=` is used as written; the other defaults still apply."""
    engine = build_engine(make_url(url).update_query_dict({"keepalives_idle": "45"}).render_as_string(False))
    try:
        assert engine_tcp_options(engine) == {**DEFAULTS, "idle": 45}
    finally:
        engine.dispose()


def test_the_migrations_engine_sets_keepalives(url):
    """`switchboard db upgrade`, `current` and `check` connect through it."""
    engine = migration_engine(url)
    try:
        assert engine_tcp_options(engine) == DEFAULTS
    finally:
        engine.dispose()


def test_the_celery_result_stores_engine_sets_keepalives(app_config, url):
    app = create_app({**app_config, "RESULT_BACKEND": f"db+{url}"})
    results = app.extensions["celery"].backend
    session = results.ResultSession()
    try:
        assert engine_tcp_options(session.get_bind()) == DEFAULTS
    finally:
        session.close()
        session.get_bind().dispose()


def test_the_sql_brokers_engine_sets_keepalives(app_config, url):
    """The engine kombu's SQL transport creates itself from the broker's transport options."""
    app = create_app({**app_config, "BROKER_URL": f"sqla+{url}"})
    celery_app = app.extensions["celery"]
    with celery_app.connection_for_write() as connection:
        engine, _session = connection.default_channel._open()
        try:
            assert engine_tcp_options(engine) == DEFAULTS
        finally:
            engine.dispose()


def gives_up_within(attempt: Callable[[], object], seconds: float) -> tuple[object, float]:
    """What `attempt` returns or raises, and how long it took; fails if it is still trying after `seconds` (on a
    thread: a hang inside libpq's C code would also block pytest-timeout's alarm)."""
    outcome: list[object] = []

    def run() -> None:
        try:
            outcome.append(attempt())
        except Exception as exc:  # noqa: BLE001 - the test asserts on whatever it was
            outcome.append(exc)

    started = time.monotonic()
    trying = threading.Thread(target=run, daemon=True)
    trying.start()
    trying.join(seconds)
    assert outcome, f"still trying after {seconds:.0f}s"
    return outcome[0], time.monotonic() - started


def test_the_sql_broker_gives_up_on_a_silent_host(app_config, monkeypatch, silent_port):
    """A worker opening the broker, or the web process enqueuing a job, fails after the connect timeout instead of
    hanging (the job stays queued for `switchboard jobs requeue`)."""
    monkeypatch.setattr(database, "POSTGRES_CONNECT_TIMEOUT_SECONDS", 1)
    app = create_app({**app_config, "BROKER_URL": f"sqla+postgresql://u:p@127.0.0.1:{silent_port}/x"})
    celery_app = app.extensions["celery"]

    def open_broker() -> None:
        with celery_app.connection_for_write() as connection:
            touch_sql_broker(connection, celery_app.conf.task_default_queue)

    error, elapsed = gives_up_within(open_broker, 6)
    assert isinstance(error, OperationalError) and "timeout expired" in str(error)
    assert elapsed < 4

    def enqueue_a_job() -> bool:
        with app.app_context():
            return enqueue("a-job-id")

    queued, elapsed = gives_up_within(enqueue_a_job, 12)
    assert queued is False  # one connect timeout: a slow failure is not retried (retry_quick_failures_only)
    assert elapsed < 3


def test_the_migrations_give_up_on_a_silent_host(monkeypatch, silent_port):
    monkeypatch.setattr(database, "POSTGRES_CONNECT_TIMEOUT_SECONDS", 1)
    engine = migration_engine(f"postgresql+psycopg2://u:p@127.0.0.1:{silent_port}/x")
    error, elapsed = gives_up_within(lambda: engine.connect().close(), 6)
    assert isinstance(error, OperationalError) and "timeout expired" in str(error)
    assert elapsed < 4
