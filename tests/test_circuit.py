"""The circuit breaker on each shared backend: SQLite, PostgreSQL and Redis."""

from __future__ import annotations

import secrets
import threading
import time

import pytest
import redis

from backend import create_app
from backend.database import Base, build_engine
from backend.routing.circuit import (
    CachedCircuitStates,
    CircuitSettings,
    DatabaseCircuitBreaker,
    RedisCircuitBreaker,
    circuit_breaker,
)

REDIS_URL = "redis://127.0.0.1:6379/0"
SETTINGS = CircuitSettings(threshold=3, cooldown=30.0, probe_timeout=10.0)
REF = "openai-main/gpt-4.1-mini"
T0 = 1_800_000_000.0


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("redis", marks=pytest.mark.redis),
    ]
)
def two_breakers(request, tmp_path):
    """Two breakers over the same shared state, each with its own connections, as two processes would have."""
    if request.param == "redis":
        prefix = f"sbtest:{secrets.token_hex(6)}:"
        clients = [redis.Redis.from_url(REDIS_URL) for _ in range(2)]
        yield [RedisCircuitBreaker(c, prefix, SETTINGS) for c in clients]
        for key in clients[0].scan_iter(f"{prefix}*"):
            clients[0].delete(key)
        for client in clients:
            client.close()
        return
    url = request.getfixturevalue("postgres_url") if request.param == "postgres" else f"sqlite:///{tmp_path}/c.db"
    engines = [build_engine(url), build_engine(url)]
    Base.metadata.create_all(engines[0])
    yield [DatabaseCircuitBreaker(e, SETTINGS) for e in engines]
    for engine in engines:
        engine.dispose()


def test_opens_after_threshold_failures_and_half_opens_after_cooldown(two_breakers):
    first, second = two_breakers
    assert first.states([REF]) == {REF: "closed"}
    first.record_failure(REF, now=T0)
    second.record_failure(REF, now=T0 + 1)
    assert first.states([REF], now=T0 + 1) == {REF: "closed"}
    second.record_failure(REF, now=T0 + 2)
    assert first.states([REF], now=T0 + 2) == {REF: "open"}
    assert first.states([REF], now=T0 + 31.9) == {REF: "open"}
    assert second.states([REF], now=T0 + 32) == {REF: "half_open"}


def test_one_probe_at_a_time_then_success_closes(two_breakers):
    first, second = two_breakers
    for i in range(3):
        first.record_failure(REF, now=T0 + i)
    assert not first.try_probe(REF, now=T0 + 10)  # still open
    assert first.try_probe(REF, now=T0 + 33)
    assert not second.try_probe(REF, now=T0 + 34)  # the other process must wait for the probe
    assert second.try_probe(REF, now=T0 + 44)  # the first probe timed out (10 s): another may try
    second.record_success(REF, now=T0 + 45)
    assert first.states([REF], now=T0 + 45) == {REF: "closed"}
    assert first.try_probe(REF, now=T0 + 45)  # closed: always allowed


def test_a_released_probe_may_be_claimed_again_at_once_and_leaves_the_circuit_half_open(two_breakers):
    """A probe whose call ended without a verdict (the caller left before any text) is given back, not held until
    the probe timeout, and judges nothing: the circuit stays half-open for the next prober."""
    first, second = two_breakers
    for i in range(3):
        first.record_failure(REF, now=T0 + i)
    assert first.try_probe(REF, now=T0 + 33)
    assert not second.try_probe(REF, now=T0 + 34)
    first.release_probe(REF)
    assert second.states([REF], now=T0 + 34) == {REF: "half_open"}
    assert second.try_probe(REF, now=T0 + 34)
    assert not first.try_probe(REF, now=T0 + 35)  # still one probe at a time


def test_releasing_the_probe_of_a_closed_circuit_changes_nothing(two_breakers):
    first, second = two_breakers
    first.release_probe(REF)
    assert second.states([REF]) == {REF: "closed"} and second.try_probe(REF)
    first.record_failure(REF, now=T0)
    first.release_probe(REF)
    first.record_failure(REF, now=T0 + 1)
    first.record_failure(REF, now=T0 + 2)
    assert second.states([REF], now=T0 + 2) == {REF: "open"}  # failures counted before a release still count


def test_a_failed_probe_reopens_for_another_cooldown(two_breakers):
    first, second = two_breakers
    for i in range(3):
        first.record_failure(REF, now=T0 + i)
    assert second.try_probe(REF, now=T0 + 40)
    second.record_failure(REF, now=T0 + 41)  # one failure is enough once tripped
    assert first.states([REF], now=T0 + 70) == {REF: "open"}
    assert first.states([REF], now=T0 + 71) == {REF: "half_open"}


def test_retry_after_keeps_it_open_exactly_that_long(two_breakers):
    first, second = two_breakers
    first.record_failure(REF, retry_after=120, now=T0)  # a 429 opens at once, threshold or not
    second.record_failure(REF, now=T0 + 1)  # a plain failure never shortens it
    second.record_success(REF, now=T0 + 2)  # nor does a late success of a call started earlier
    assert first.states([REF], now=T0 + 119.9) == {REF: "open"}
    assert first.states([REF], now=T0 + 120) == {REF: "half_open"}
    first.record_failure(REF, retry_after=5, now=T0 + 200)
    assert second.states([REF], now=T0 + 204.9) == {REF: "open"}
    assert second.states([REF], now=T0 + 205) == {REF: "half_open"}


def test_success_resets_the_failure_count(two_breakers):
    first, second = two_breakers
    first.record_failure(REF, now=T0)
    first.record_failure(REF, now=T0 + 1)
    second.record_success(REF, now=T0 + 2)
    first.record_failure(REF, now=T0 + 3)
    first.record_failure(REF, now=T0 + 4)
    assert second.states([REF, "other/model"], now=T0 + 4) == {REF: "closed", "other/model": "closed"}


def test_concurrent_failures_are_all_counted(two_breakers):
    first, second = two_breakers
    threads = [
        threading.Thread(target=(first, second)[i % 2].record_failure, args=(f"m/{i % 2}",), kwargs={"now": T0})
        for i in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # two failures each: below the threshold of 3, so one more on either opens it
    assert first.states(["m/0", "m/1"], now=T0) == {"m/0": "closed", "m/1": "closed"}
    second.record_failure("m/0", now=T0)
    assert first.states(["m/0", "m/1"], now=T0) == {"m/0": "open", "m/1": "closed"}


@pytest.mark.redis
def test_app_uses_redis_when_configured_and_the_database_otherwise(app_config):
    app = create_app({**app_config, "REDIS_URL": REDIS_URL, "REDIS_KEY_PREFIX": f"sbtest:{secrets.token_hex(4)}:"})
    assert isinstance(circuit_breaker(app).breaker, RedisCircuitBreaker)
    assert circuit_breaker(app) is circuit_breaker(app)
    plain = create_app(app_config)
    assert isinstance(circuit_breaker(plain).breaker, DatabaseCircuitBreaker)
    with plain.app_context():
        from backend.extensions import db

        db.engine.dispose()


def test_cached_states_see_own_changes_at_once_and_others_within_the_ttl(two_breakers):
    first, second = two_breakers
    cached = CachedCircuitStates(first, ttl=0.3)
    assert cached.states([REF]) == {REF: "closed"}
    for _ in range(3):
        second.record_failure(REF)  # another process opens it
    assert cached.states([REF]) == {REF: "closed"}  # not seen yet: cached
    time.sleep(0.35)
    assert cached.states([REF]) == {REF: "open"}
    cached.record_failure("other/model", retry_after=60)
    assert cached.states(["other/model"]) == {"other/model": "open"}  # own change: seen at once
