"""GET /api/health: degraded, and quickly, when the database or the Redis of rate limits and circuits is down or hangs.

Brokers have their own checks in tests/test_celery.py.
"""

from __future__ import annotations

import socket
import threading
import time

import pytest

from backend import create_app
from backend.database import Base
from backend.extensions import db
from tests.fakes.common import free_port

REDIS_URL = "redis://127.0.0.1:6379/0"


def timed_health(app, give_up_after: float = 20.0) -> tuple[int, dict, float]:
    """Status, body and seconds taken by GET /api/health; fails (rather than hangs) if it takes over `give_up_after`."""
    answers: list = []

    def ask() -> None:
        started = time.monotonic()
        response = app.test_client().get("/api/health")
        answers.append((response.status_code, response.get_json(), time.monotonic() - started))

    # A thread, because a hang inside libpq's C code would also block pytest-timeout's alarm.
    asking = threading.Thread(target=ask, daemon=True)
    asking.start()
    asking.join(give_up_after)
    assert answers, f"/api/health did not answer within {give_up_after:.0f}s"
    return answers[0]


def test_a_hung_database_host_makes_health_degraded_within_seconds(app_config, silent_port):
    """A PostgreSQL host that accepts and never answers: 503 with db "timeout" within seconds, and no password."""
    url = f"postgresql://switchboard:db-password-123@127.0.0.1:{silent_port}/switchboard"
    app = create_app({**app_config, "DATABASE_URL": url})
    status, body, elapsed = timed_health(app)
    assert (status, body["status"], body["checks"]["db"]) == (503, "degraded", "timeout")
    assert body["checks"]["broker"] == "ok"
    assert elapsed < 6, f"health took {elapsed:.1f}s"
    assert "db-password-123" not in str(body)


def test_an_unopenable_database_makes_health_degraded(app_config, tmp_path):
    """A database that refuses at once is reported as an error."""
    app = create_app({**app_config, "DATABASE_URL": f"sqlite:///{tmp_path / 'no-such-dir' / 'x.sqlite'}"})
    status, body, _ = timed_health(app)
    assert (status, body["status"], body["checks"]["db"]) == (503, "degraded", "error")


@pytest.mark.redis
def test_a_configured_redis_that_answers_is_ok(app):
    """With REDIS_URL reachable, health reports it ok; without REDIS_URL it is not_configured."""
    assert timed_health(app)[1]["checks"]["redis"] == "not_configured"
    app.config["REDIS_URL"] = REDIS_URL
    status, body, _ = timed_health(app)
    assert (status, body["status"], body["checks"]["redis"]) == (200, "ok", "ok")


@pytest.mark.parametrize("how", ["refused", "silent"])
def test_a_configured_redis_that_is_down_makes_health_degraded(app_config, silent_port, how):
    """Every model call needs REDIS_URL's Redis (rate limits, circuits): down or hung, the replica is degraded."""
    port = free_port() if how == "refused" else silent_port
    app = create_app({**app_config, "REDIS_URL": f"redis://:redis-password-123@127.0.0.1:{port}/0"})
    with app.app_context():
        Base.metadata.create_all(db.engine)
    status, body, elapsed = timed_health(app)
    assert (status, body["status"], body["checks"]["redis"]) == (503, "degraded", "error")
    assert body["checks"]["db"] == "ok"
    assert elapsed < 6, f"health took {elapsed:.1f}s"
    assert "redis-password-123" not in str(body)
