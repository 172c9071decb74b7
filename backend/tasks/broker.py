"""The broker from the outside: make the embedded SQLite broker ready for several processes, and check reachability."""

from __future__ import annotations

import sqlite3
import time
from contextlib import closing

from celery import Celery
from sqlalchemy.engine import make_url

from backend.tasks.celery_app import REDIS_SCHEMES, is_sql_broker

# Health checks must answer quickly even when the broker host drops packets instead of refusing connections.
BROKER_CHECK_TIMEOUT_SECONDS = 2.0
# A publish that failed within this long met a dropped or refused connection, which a fresh connection may cure (the
# broker restarted, a pooled connection was closed): Celery's publish retry tries again. One that failed later waited
# out a connect timeout on a broker host that does not answer: trying again would keep the caller waiting as long once
# more (twice the timeout in all), for the same answer.
QUICK_FAILURE_SECONDS = 1.0


def prepare_broker(celery_app: Celery) -> None:
    """Create the SQL broker's tables once, before several processes race to, and put a SQLite file in WAL mode."""
    url = celery_app.conf.broker_url
    if not is_sql_broker(url):
        return
    database_file = sqlite_file(url.split("+", 1)[1])
    if database_file:
        # WAL is a property of the file and persists: the worker's polling reads then never block the web's writes.
        with closing(sqlite3.connect(database_file, timeout=30)) as connection:
            connection.execute("PRAGMA journal_mode=WAL")
    with celery_app.connection_for_write() as connection:
        touch_sql_broker(connection, celery_app.conf.task_default_queue)


def sqlite_file(sqlalchemy_url: str) -> str | None:
    """The file behind a SQLite SQLAlchemy URL, or None for other databases and in-memory SQLite."""
    url = make_url(sqlalchemy_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return url.database


def touch_sql_broker(connection, queue_name: str) -> None:
    """Open the SQL transport's database (it connects lazily) and make sure the queue's row exists."""
    connection.default_channel._size(queue_name)


def retry_quick_failures_only() -> dict:
    """A `retry_policy` for one `apply_async`: Celery's publish retries (task_publish_retry_policy) go on only while
    the publish has been failing for less than QUICK_FAILURE_SECONDS, so a silent broker fails it in one timeout.

    Make one per publish (it times from its making). kombu also copies it into the pooled connection's transport
    options, where that connection's next publish replaces it: send every message with one (backend.jobs.submit).
    """
    started = time.monotonic()

    def give_up_after_a_slow_failure(exc: Exception, _interval: float) -> None:
        """kombu calls this after each failed attempt, before it retries: raising ends the publish with the error."""
        if time.monotonic() - started >= QUICK_FAILURE_SECONDS:
            raise exc

    return {"errback": give_up_after_a_slow_failure}


def broker_status(celery_app: Celery, timeout: float = BROKER_CHECK_TIMEOUT_SECONDS) -> str:
    """'ok' when the broker accepts a connection within `timeout` seconds; raises otherwise."""
    url = celery_app.conf.broker_url
    # Without a socket timeout a Redis server that accepts but never answers would hang the check (and the probe).
    options = {"socket_timeout": timeout, "socket_connect_timeout": timeout} if url.startswith(REDIS_SCHEMES) else {}
    with celery_app.connection_for_write(connect_timeout=timeout, transport_options=options) as connection:
        # No retries: a health check reports the broker's state now; the caller decides what to do about it.
        connection.ensure_connection(max_retries=0, timeout=timeout)
        if is_sql_broker(celery_app.conf.broker_url):
            touch_sql_broker(connection, celery_app.conf.task_default_queue)
    return "ok"
