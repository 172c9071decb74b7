"""Celery on each broker: a real worker round-trips tasks inside the app context; /api/health checks the broker."""

from __future__ import annotations

import socket
import sqlite3
import time
import uuid
from contextlib import closing

import pytest
import redis
from celery import shared_task
from celery.contrib.testing.worker import start_worker
from flask import current_app
from kombu import Exchange, Queue
from kombu.transport import sqlalchemy as kombu_sqlalchemy
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.pool import NullPool

from backend import create_app
from backend.database import Base
from backend.extensions import db
from backend.jobs.submit import enqueue
from backend.tasks.broker import prepare_broker
from backend.tasks.builtin import ping
from tests.fakes.common import free_port

REDIS_URL = "redis://127.0.0.1:6379/0"
RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672//"
TASK_TIMEOUT_SECONDS = 30


@shared_task(name="tests.app_context_probe")
def app_context_probe() -> dict:
    """Report which Flask app the task ran in; raises if no app context was pushed."""
    return {"instance_path": current_app.instance_path, "database_url": current_app.config["DATABASE_URL"]}


def sqla_broker(tmp_path) -> str:
    """A SQLite broker file of this test's own."""
    return f"sqla+sqlite:///{tmp_path / 'broker.sqlite'}"


BROKERS = [
    pytest.param(sqla_broker, id="sqla"),
    pytest.param(lambda _tmp: REDIS_URL, id="redis", marks=pytest.mark.redis),
    pytest.param(lambda _tmp: RABBITMQ_URL, id="rabbitmq", marks=pytest.mark.rabbitmq),
]


@pytest.fixture(params=BROKERS)
def broker_app(request, app_config, tmp_path):
    """An app on one broker whose default queue (and exchange) is unique to this test, so parallel runs never mix."""
    queue = f"sb-test-{uuid.uuid4().hex[:12]}"
    app = create_app({**app_config, "BROKER_URL": request.param(tmp_path)})
    with app.app_context():
        Base.metadata.create_all(db.engine)
    app.extensions["celery"].conf.task_default_queue = queue
    # Without broker heartbeats the embedded worker's event loop wakes every second instead of every ten, so it
    # notices the end of the test at once (this changes how fast the worker stops, not what it does).
    app.extensions["celery"].conf.broker_heartbeat = 0
    yield app
    delete_queue(app.extensions["celery"], queue)
    with app.app_context():
        db.engine.dispose()


def delete_queue(celery_app, queue: str) -> None:
    """Remove the test's queue, exchange and bindings from a shared Redis or RabbitMQ server."""
    url = celery_app.conf.broker_url
    if url.startswith("redis://"):
        client = redis.Redis.from_url(url)
        client.delete(queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")
        client.close()
    elif url.startswith("amqp://"):
        with celery_app.connection_for_write() as connection:
            channel = connection.default_channel
            Queue(queue, Exchange(queue), routing_key=queue, channel=channel).delete()
            Exchange(queue, channel=channel).delete()


def test_real_worker_round_trips_ping_inside_the_app_context(broker_app):
    """A worker thread consumes from the broker; ping reaches the database and the probe sees this very app."""
    celery_app = broker_app.extensions["celery"]
    with start_worker(celery_app, perform_ping_check=False, shutdown_timeout=30):
        started = time.monotonic()
        assert ping.apply_async(ignore_result=False).get(timeout=TASK_TIMEOUT_SECONDS) == "pong"
        probe = app_context_probe.apply_async(ignore_result=False).get(timeout=TASK_TIMEOUT_SECONDS)
        elapsed = time.monotonic() - started
    assert probe == {"instance_path": broker_app.instance_path, "database_url": broker_app.config["DATABASE_URL"]}
    assert elapsed < TASK_TIMEOUT_SECONDS


def test_task_fails_loudly_when_it_cannot_reach_the_database(app_config, tmp_path):
    """Ping really touches the database: with the database file unopenable, the worker reports the failure."""
    app = create_app({**app_config, "DATABASE_URL": f"sqlite:///{tmp_path / 'missing-dir' / 'x.sqlite'}"})
    celery_app = app.extensions["celery"]
    celery_app.conf.task_default_queue = f"sb-test-{uuid.uuid4().hex[:12]}"
    with start_worker(celery_app, perform_ping_check=False, shutdown_timeout=30):
        result = ping.apply_async(ignore_result=False)
        with pytest.raises(Exception, match="unable to open database file"):
            result.get(timeout=TASK_TIMEOUT_SECONDS)


def test_settings_make_tasks_survive_a_lost_worker(app):
    """Late acknowledgement, requeue on a lost worker and one message at a time, as DESIGN.md asks."""
    conf = app.extensions["celery"].conf
    assert (conf.task_acks_late, conf.task_reject_on_worker_lost, conf.worker_prefetch_multiplier) == (True, True, 1)
    assert conf.broker_url.startswith("sqla+sqlite:///") and conf.broker_url.endswith("celery-broker.sqlite")
    assert conf.result_backend.startswith("db+sqlite:///")


def test_sql_broker_polling_interval_comes_from_config(app_config):
    """The SQL transport polls at CELERY_POLL_INTERVAL (a class attribute, not a transport option)."""
    from kombu.transport.sqlalchemy import Transport

    app = create_app({**app_config, "CELERY_POLL_INTERVAL": 0.25})
    with app.extensions["celery"].connection_for_read() as connection:
        assert connection.transport.polling_interval == 0.25
    create_app({**app_config, "CELERY_POLL_INTERVAL": 0.5})
    assert Transport.polling_interval == 0.5


def test_prepare_broker_readies_the_sqlite_file_for_several_processes(app):
    """The embedded broker's file is in WAL mode (polls never block writers) and its tables exist before any race."""
    celery_app = app.extensions["celery"]
    prepare_broker(celery_app)
    path = celery_app.conf.broker_url.removeprefix("sqla+sqlite:///")
    with closing(sqlite3.connect(path)) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"kombu_queue", "kombu_message"} <= tables


def test_health_reports_each_broker_ok(broker_app):
    """/api/health connects to the configured broker and reports it."""
    response = broker_app.test_client().get("/api/health")
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["checks"]["broker"] == "ok"
    assert response.get_json()["status"] == "ok"


DEAD_BROKERS = {
    "redis-refused": lambda port, tmp: f"redis://127.0.0.1:{free_port()}/0",
    "rabbitmq-refused": lambda port, tmp: f"amqp://guest:guest@127.0.0.1:{free_port()}//",
    "redis-silent": lambda port, tmp: f"redis://127.0.0.1:{port}/0",
    "rabbitmq-silent": lambda port, tmp: f"amqp://guest:guest@127.0.0.1:{port}//",
    "rabbitmq-bad-password": lambda port, tmp: "amqp://guest:wrong-password@127.0.0.1:5672//",
    "sqla-unopenable": lambda port, tmp: f"sqla+sqlite:///{tmp / 'no-such-dir' / 'broker.sqlite'}",
}


@pytest.mark.parametrize(
    "dead",
    [pytest.param(name, marks=pytest.mark.rabbitmq) if "password" in name else name for name in DEAD_BROKERS],
)
def test_health_is_degraded_quickly_when_the_broker_is_down(dead, app_config, silent_port, tmp_path):
    """A refused, hung or unopenable broker makes health degraded (503) within a few seconds, never a hang."""
    app = create_app({**app_config, "BROKER_URL": DEAD_BROKERS[dead](silent_port, tmp_path)})
    started = time.monotonic()
    response = app.test_client().get("/api/health")
    elapsed = time.monotonic() - started
    assert response.status_code == 503
    assert response.get_json()["checks"]["broker"] == "error"
    assert response.get_json()["status"] == "degraded"
    assert elapsed < 6, f"health took {elapsed:.1f}s"


@pytest.mark.postgres
def test_a_broker_connection_dropped_since_the_last_job_is_retried(app_config, postgres_url):
    """The broker's server ended the pooled connection (a restart, an idle timeout): the publish fails at once, and
    Celery's retry on a fresh connection queues the job (backend.tasks.broker.retry_quick_failures_only keeps it)."""
    name = f"sb-broker-{uuid.uuid4().hex[:12]}"
    broker = make_url(postgres_url).update_query_dict({"application_name": name}).render_as_string(hide_password=False)
    app = create_app({**app_config, "BROKER_URL": f"sqla+{broker}"})
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with app.app_context():
            assert enqueue("first-job")
            with admin.connect() as connection:
                ended = connection.execute(
                    text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = :name"),
                    {"name": name},
                ).all()
            assert ended, "the broker kept no connection to end"
            started = time.monotonic()
            assert enqueue("second-job")
            assert time.monotonic() - started < 5
        with admin.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM kombu_message")).scalar_one() == 2
    finally:
        admin.dispose()
        for url in [url for url in kombu_sqlalchemy.Channel._engines if name in url]:  # kombu keeps one per URL
            engine, _session = kombu_sqlalchemy.Channel._engines.pop(url)
            engine.dispose()
