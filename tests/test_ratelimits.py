"""Rate limits per user and tenant, on SQLite, PostgreSQL and Redis, and across two app processes sharing Redis."""

from __future__ import annotations

import secrets
import subprocess
import sys
import textwrap
import threading

import pytest
import redis

from backend.database import Base, build_engine
from backend.metering.ratelimits import (
    DatabaseRateLimiter,
    LargerThanRateLimit,
    RateLimited,
    RedisRateLimiter,
    checks_for,
)

REDIS_URL = "redis://127.0.0.1:6379/0"
T0 = 1_800_000_010.0  # 10 s into a window


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("redis", marks=pytest.mark.redis),
    ]
)
def limiter(request, tmp_path):
    """A rate limiter on a fresh store of each kind."""
    if request.param == "redis":
        prefix = f"sbtest:{secrets.token_hex(6)}:"
        client = redis.Redis.from_url(REDIS_URL)
        yield RedisRateLimiter(client, prefix)
        for key in client.scan_iter(f"{prefix}*"):
            client.delete(key)
        client.close()
        return
    url = request.getfixturevalue("postgres_url") if request.param == "postgres" else f"sqlite:///{tmp_path}/r.db"
    engine = build_engine(url, autocommit=True)  # as the app gives them: db.autocommit_engine
    Base.metadata.create_all(engine)
    yield DatabaseRateLimiter(engine)
    engine.dispose()


def test_requests_per_minute_per_user_then_429_until_one_is_paid_back(limiter):
    limits = {"user_requests_per_minute": 3, "tenant_requests_per_minute": 100}
    for _ in range(3):  # a minute's worth at once
        limiter.acquire(checks_for("t1", "u1", limits, 0), now=T0)
    with pytest.raises(RateLimited) as caught:
        limiter.acquire(checks_for("t1", "u1", limits, 0), now=T0 + 5)
    error = caught.value
    assert (error.status, error.code, error.details) == (429, "rate_limited", {"limit": "user_requests_per_minute"})
    assert error.headers["Retry-After"] == "15"  # 3 a minute: one request is paid back every 20 s
    limiter.acquire(checks_for("t1", "u2", limits, 0), now=T0 + 5)  # another user is not affected
    limiter.acquire(checks_for("t1", "u1", limits, 0), now=T0 + 20)  # as Retry-After said
    with pytest.raises(RateLimited) as caught:
        limiter.acquire(checks_for("t1", "u1", limits, 0), now=T0 + 20)
    assert caught.value.headers["Retry-After"] == "20"


def test_no_second_burst_across_a_minute_boundary(limiter):
    """Fixed one-minute windows would admit 3 at 0:59 and 3 more at 1:00; a rate admits one every 20 s."""
    limits = {"user_requests_per_minute": 3}
    end_of_minute = T0 + 49  # 59 s into the minute
    for _ in range(3):
        limiter.acquire(checks_for("t1", "u1", limits, 0), now=end_of_minute)
    with pytest.raises(RateLimited) as caught:
        limiter.acquire(checks_for("t1", "u1", limits, 0), now=end_of_minute + 2)  # the next minute has begun
    assert caught.value.headers["Retry-After"] == "18"
    admitted = 0
    for second in range(2, 62):  # over the following minute: one every 20 s, three in all
        try:
            limiter.acquire(checks_for("t1", "u1", limits, 0), now=end_of_minute + second)
            admitted += 1
        except RateLimited:
            pass
    assert admitted == 3


def test_a_request_over_a_whole_minutes_token_limit_is_413_not_429():
    with pytest.raises(LargerThanRateLimit) as caught:
        checks_for("t1", "u1", {"user_tokens_per_minute": 1000}, 1001)
    assert (caught.value.status, caught.value.code) == (413, "input_too_large")
    assert caught.value.details == {"limit": "user_tokens_per_minute", "size": 1001, "max": 1000}
    assert [c.amount for c in checks_for("t1", "u1", {"user_tokens_per_minute": 1000}, 1000)] == [1000]


def test_tenant_limit_covers_all_its_users(limiter):
    limits = {"user_requests_per_minute": 10, "tenant_requests_per_minute": 4}
    for user in ("a", "b", "c", "d"):
        limiter.acquire(checks_for("t1", user, limits, 0), now=T0)
    with pytest.raises(RateLimited, match="Too many requests"):
        limiter.acquire(checks_for("t1", "e", limits, 0), now=T0)
    limiter.acquire(checks_for("t2", "a", limits, 0), now=T0)  # other tenants have their own counters


def test_tokens_per_minute_and_a_rejected_request_charges_nothing(limiter):
    limits = {"user_requests_per_minute": 3, "tenant_tokens_per_minute": 1000}
    limiter.acquire(checks_for("t1", "u1", limits, 600), now=T0)
    with pytest.raises(RateLimited) as caught:
        limiter.acquire(checks_for("t1", "u1", limits, 600), now=T0)
    assert caught.value.details == {"limit": "tenant_tokens_per_minute"}
    limiter.acquire(checks_for("t1", "u1", limits, 400), now=T0)  # exactly at the token limit
    limiter.acquire(
        checks_for("t1", "u1", {"user_requests_per_minute": 3}, 0), now=T0
    )  # third request: the rejected one was not counted
    with pytest.raises(RateLimited):
        limiter.acquire(checks_for("t1", "u1", {"user_requests_per_minute": 3}, 0), now=T0)


def test_concurrent_requests_never_exceed_the_limit(limiter):
    limits = {"user_requests_per_minute": 10}
    admitted: list[int] = []
    start = threading.Barrier(30)

    def one(i: int) -> None:
        """One request; note it if admitted."""
        start.wait()
        try:
            limiter.acquire(checks_for("t1", "u1", limits, 0), now=T0)
            admitted.append(i)
        except RateLimited:
            pass

    threads = [threading.Thread(target=one, args=(i,)) for i in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(admitted) == 10


WORKER = textwrap.dedent(
    """
    import pathlib, sys, time
    from backend import create_app
    from backend.metering.ratelimits import RateLimited, check_rate_limits

    instance, prefix, barrier, now = sys.argv[1], sys.argv[2], pathlib.Path(sys.argv[3]), float(sys.argv[4])
    attempts, user, parties = int(sys.argv[5]), sys.argv[6], int(sys.argv[7])
    app = create_app({"TESTING": True, "INSTANCE_PATH": instance, "SECRET_KEY": "k" * 40,
                      "DATABASE_URL": "sqlite:///" + instance + "/db.sqlite",
                      "REDIS_URL": "redis://127.0.0.1:6379/0", "REDIS_KEY_PREFIX": prefix})
    (barrier / instance.replace("/", "_")).touch()
    while len(list(barrier.iterdir())) < parties:  # start together once every app is built
        time.sleep(0.01)
    admitted = 0
    for _ in range(attempts):
        try:
            check_rate_limits(app, "t1", user, {"user_requests_per_minute": 25, "tenant_requests_per_minute": 1000},
                              tokens=0, now=now)
            admitted += 1
        except RateLimited:
            pass
    print(admitted)
    """
)


@pytest.mark.redis
def test_limits_hold_across_two_app_processes_sharing_redis(tmp_path):
    prefix = f"sbtest:{secrets.token_hex(6)}:"

    def run(*parties: tuple[str, int, str]) -> list[int]:
        """Start one app process per (name, attempts, user) together; the number each one got admitted."""
        barrier = tmp_path / f"barrier-{secrets.token_hex(4)}"
        barrier.mkdir()
        processes = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    WORKER,
                    str(tmp_path / name),
                    prefix,
                    str(barrier),
                    str(T0),
                    str(attempts),
                    user,
                    str(len(parties)),
                ],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for name, attempts, user in parties
        ]
        results = [p.communicate(timeout=60) for p in processes]
        assert all(p.returncode == 0 for p in processes), [err for _, err in results]
        return [int(out.strip()) for out, _ in results]

    try:
        # One process uses 15 of the user's 25; another process then gets exactly the 10 left.
        assert run(("p1", 15, "u1")) == [15]
        assert run(("p2", 40, "u1")) == [10]
        # Racing processes: 80 attempts at once, 25 admitted in all, never more.
        assert sum(run(("p3", 40, "u2"), ("p4", 40, "u2"))) == 25
    finally:
        client = redis.Redis.from_url(REDIS_URL)
        for key in client.scan_iter(f"{prefix}*"):
            client.delete(key)
        client.close()
