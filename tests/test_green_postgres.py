"""psycopg2 under gevent (backend/green_postgres.py): waits yield to other greenlets, and a connect to a host that
accepts TCP and then says nothing gives up at its connect_timeout instead of holding the request forever."""

from __future__ import annotations

import subprocess
import sys
import time

import gevent
import psycopg2
import pytest
from psycopg2 import extensions

from backend.green_postgres import patch_psycopg
from tests.postgres import admin_url

# A hang is reported as a failure after this long, instead of blocking the suite.
HANG_SECONDS = 8


@pytest.fixture
def green_psycopg():
    """This process's psycopg2 waits through backend.green_postgres for the test, as in a gevent worker."""
    patch_psycopg()
    yield
    extensions.set_wait_callback(None)


def connect_within(dsn: str, seconds: float):
    """Connect in a greenlet; (connection or the error raised, seconds taken), or fail the test if it hangs."""
    started = time.monotonic()
    greenlet = gevent.spawn(psycopg2.connect, dsn)
    greenlet.join(timeout=seconds)
    if not greenlet.ready():
        greenlet.kill(block=False)
        pytest.fail(f"the connect was still waiting after {seconds} s")
    return (greenlet.value if greenlet.successful() else greenlet.exception), time.monotonic() - started


def test_a_connect_to_a_silent_server_gives_up_at_its_connect_timeout(green_psycopg, silent_port):
    """libpq's own timer does not run for a connection made through a wait callback: the callback keeps it."""
    dsn = f"host=127.0.0.1 port={silent_port} dbname=test user=postgres connect_timeout=2"
    outcome, took = connect_within(dsn, HANG_SECONDS)
    assert isinstance(outcome, psycopg2.OperationalError), outcome
    assert "timeout expired" in str(outcome)
    assert 1.9 <= took < 4


@pytest.mark.postgres
def test_a_query_waits_cooperatively_and_connects_normally(green_psycopg):
    """Through the callback a real connection is made and, while a query waits on the server, other greenlets run."""
    server = admin_url()
    dsn = extensions.make_dsn(
        host=server.host,
        port=server.port or 5432,
        dbname=server.database,
        user=server.username,
        password=server.password,
        connect_timeout=2,
    )
    connection, _ = connect_within(dsn, HANG_SECONDS)
    assert not isinstance(connection, BaseException), connection
    ticks = []

    def tick():
        """Count while the query runs."""
        while True:
            ticks.append(time.monotonic())
            gevent.sleep(0.02)

    ticker = gevent.spawn(tick)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_sleep(0.3), 42")
            assert cursor.fetchone()[1] == 42
    finally:
        ticker.kill()
        connection.close()
    assert len(ticks) >= 5  # about 15 in 0.3 s; none if the query had blocked the hub


def test_a_gevent_worker_installs_this_callback():
    """gunicorn's post_worker_init wires it in gevent workers (in a process of its own: it also freezes the GC)."""
    script = (
        "from types import SimpleNamespace\n"
        "from psycopg2 import extensions\n"
        "from backend import gunicorn_conf\n"
        "gunicorn_conf.post_worker_init(SimpleNamespace(cfg=SimpleNamespace(worker_class_str='gevent')))\n"
        "callback = extensions.get_wait_callback()\n"
        "print(callback.__module__, callback.__name__)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.split() == ["backend.green_postgres", "wait_cooperatively"]
