"""Rate limits per user and per tenant: requests and tokens per minute, in fixed one-minute windows.

Settings keys (tenant `rate_limits`): user_requests_per_minute, tenant_requests_per_minute, user_tokens_per_minute,
tenant_tokens_per_minute; a missing key means no limit. Tokens are charged at admission as prompt tokens plus the
call's max output tokens (like Azure OpenAI's TPM), because the real output is only known afterwards.
All limits of a request are checked and charged together, atomically: a Lua script in Redis when REDIS_URL is set,
else conditional UPDATEs in one database transaction. A rejected request charges nothing. Fixed windows allow a
burst of up to twice a limit across a window boundary; that is the accepted price of one cheap atomic step.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from flask import Flask
from sqlalchemy import Engine, delete, select

from backend.errors import ApiError
from backend.metering.store import hold_within_limits, key_prefix, shared_redis
from backend.models.accounting import RateLimitCounter

WINDOW_SECONDS = 60
TABLE = RateLimitCounter.__tablename__
EXTENSION_KEY = "switchboard.ratelimiter"
LIMIT_SETTINGS = (
    ("user", "requests", "user_requests_per_minute"),
    ("tenant", "requests", "tenant_requests_per_minute"),
    ("user", "tokens", "user_tokens_per_minute"),
    ("tenant", "tokens", "tenant_tokens_per_minute"),
)

_ACQUIRE = """
for i, key in ipairs(KEYS) do
  local used = tonumber(redis.call('GET', key) or '0')
  if used + tonumber(ARGV[2 * i]) > tonumber(ARGV[2 * i + 1]) then return i end
end
for i, key in ipairs(KEYS) do
  redis.call('INCRBY', key, tonumber(ARGV[2 * i]))
  redis.call('EXPIRE', key, tonumber(ARGV[1]))
end
return 0
"""


class RateLimited(ApiError):
    """429 rate_limited with Retry-After at the end of the current window."""

    def __init__(self, limit_name: str, retry_after: int) -> None:
        message = "Too many requests; try again later."
        headers = {"Retry-After": str(retry_after)}
        super().__init__(429, "rate_limited", message, details={"limit": limit_name}, headers=headers)


@dataclass(frozen=True)
class LimitCheck:
    """One limit to charge: its counter key (without window), the amount, the limit and its settings name."""

    key: str
    amount: int
    limit: int
    name: str


def checks_for(tenant_id: str, user_id: str, rate_limits: dict, tokens: int) -> list[LimitCheck]:
    """The configured limits a request of `tokens` tokens must pass, in a fixed key order (one lock order)."""
    owners = {"user": f"{tenant_id}:{user_id}", "tenant": tenant_id}
    checks = [
        LimitCheck(f"rl:{scope}:{kind}:{owners[scope]}", 1 if kind == "requests" else tokens, int(limit), name)
        for scope, kind, name in LIMIT_SETTINGS
        if (limit := rate_limits.get(name)) is not None
    ]
    return sorted(checks, key=lambda c: c.key)


def window_of(now: float) -> tuple[int, int]:
    """The current window number and the whole seconds until it ends (at least 1)."""
    window = int(now // WINDOW_SECONDS)
    return window, max(1, math.ceil((window + 1) * WINDOW_SECONDS - now))


class RedisRateLimiter:
    """Counters in Redis keys that expire with their window."""

    def __init__(self, client, prefix: str) -> None:
        self.prefix = prefix
        self._acquire = client.register_script(_ACQUIRE)

    def acquire(self, checks: list[LimitCheck], now: float | None = None) -> None:
        """Charge every check, or none and raise RateLimited."""
        if not checks:
            return
        window, retry_after = window_of(time.time() if now is None else now)
        keys = [f"{self.prefix}{c.key}:{window}" for c in checks]
        args: list[int] = [WINDOW_SECONDS * 2]
        for check in checks:
            args += [check.amount, check.limit]
        failed = int(self._acquire(keys=keys, args=args))
        if failed:
            raise RateLimited(checks[failed - 1].name, retry_after)


class DatabaseRateLimiter:
    """Counters in the rate_limit_counters table, one row per key and window."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.table = RateLimitCounter.__table__
        self._swept_window = -1  # the window this process last deleted old counter rows in

    def acquire(self, checks: list[LimitCheck], now: float | None = None) -> None:
        """Charge every check, or none and raise RateLimited."""
        if not checks:
            return
        window, retry_after = window_of(time.time() if now is None else now)
        keys = [{"key": check.key, "window": window} for check in checks]
        amounts, limits = [c.amount for c in checks], [c.limit for c in checks]
        for check in checks:  # a new row starts at its amount: an amount above its limit never fits
            if check.amount > check.limit:
                raise RateLimited(check.name, retry_after)
        if not hold_within_limits(self.engine, TABLE, keys, "used", amounts, limits):  # all charged, or none
            raise RateLimited(self._full_limit(checks, window), retry_after)
        if window != self._swept_window:  # old windows: once per window and process, not on every request
            self._swept_window = window
            with self.engine.begin() as conn:
                conn.execute(delete(RateLimitCounter).where(RateLimitCounter.window < window - 1))

    def _full_limit(self, checks: list[LimitCheck], window: int) -> str:
        """The settings name of the first limit a refused request did not fit (read after the rollback)."""
        c = RateLimitCounter
        with self.engine.connect() as conn:
            rows = conn.execute(select(c.key, c.used).where(c.key.in_([k.key for k in checks]), c.window == window))
            used = dict(rows.all())
        return next((k.name for k in checks if used.get(k.key, 0) + k.amount > k.limit), checks[0].name)


def rate_limiter(app: Flask) -> RedisRateLimiter | DatabaseRateLimiter:
    """The app's limiter (once per app and process): Redis when configured, the database otherwise."""
    limiter = app.extensions.get(EXTENSION_KEY)
    if limiter is None:
        from backend.extensions import db

        client = shared_redis(app)
        if client is not None:
            limiter = RedisRateLimiter(client, key_prefix(app))
        else:
            with app.app_context():
                limiter = DatabaseRateLimiter(db.autocommit_engine)
        app.extensions[EXTENSION_KEY] = limiter
    return limiter


def check_rate_limits(
    app: Flask, tenant_id: str, user_id: str, rate_limits: dict, tokens: int = 0, now: float | None = None
) -> None:
    """Admit one request of `tokens` tokens for this user, or raise RateLimited (429 with Retry-After)."""
    rate_limiter(app).acquire(checks_for(tenant_id, user_id, rate_limits or {}, tokens), now=now)
