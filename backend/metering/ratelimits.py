"""Rate limits per user and per tenant: requests and tokens per minute, as a rate with a burst of one minute's worth.

Settings keys (tenant `rate_limits`): user_requests_per_minute, tenant_requests_per_minute, user_tokens_per_minute,
tenant_tokens_per_minute; a missing key means no limit. Tokens are charged at admission as prompt tokens plus the
call's max output tokens (like Azure OpenAI's TPM), because the real output is only known afterwards.

Each limit is a GCRA (the generic cell rate algorithm, a token bucket kept as one number): a limit of N per minute
frees one unit every 60/N seconds, and at most N units are available at once. Its state is the "theoretical arrival
time" (TAT): when everything admitted so far will have been paid back. A request of `amount` units is admitted when
`max(TAT, now) + amount * 60/N - now <= 60 s`, and then moves the TAT there. Unlike fixed one-minute windows there is
no window boundary to burst across, and a refused request is told exactly how long to wait (`Retry-After`: until
enough has been paid back), not until the next minute starts. A request larger than a whole minute's limit can never
pass and is refused with 413 `input_too_large`.

All limits of a request are checked and charged together, atomically: a Lua script in Redis when REDIS_URL is set,
else one conditional upsert in the database. A refused request charges nothing.
"""

from __future__ import annotations

import functools
import math
import time
from dataclasses import dataclass

from flask import Flask
from sqlalchemy import Engine, TextClause, select, text

from backend.errors import ApiError
from backend.metering.store import charge_all_or_none, key_prefix, shared_redis
from backend.models.accounting import RateLimitState

PERIOD_SECONDS = 60.0  # limits are per minute; also the burst: a full minute's worth at once
TABLE = RateLimitState.__tablename__
EXTENSION_KEY = "switchboard.ratelimiter"
LIMIT_SETTINGS = (
    ("user", "requests", "user_requests_per_minute"),
    ("tenant", "requests", "tenant_requests_per_minute"),
    ("user", "tokens", "user_tokens_per_minute"),
    ("tenant", "tokens", "tenant_tokens_per_minute"),
)

# KEYS: the limits' TAT keys. ARGV[1]: now, ARGV[2]: the burst (seconds), ARGV[2 + i]: key i's cost in seconds.
# Returns {0} when every limit admitted the request (all charged), else {i, seconds to wait} for the first that did not.
# Numbers travel as strings: Redis truncates Lua numbers to integers.
_ACQUIRE = """
local now, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local tats = {}
for i, key in ipairs(KEYS) do
  local tat = math.max(tonumber(redis.call('GET', key) or '0'), now) + tonumber(ARGV[2 + i])
  if tat - now > burst then return {i, tostring(tat - now - burst)} end
  tats[i] = tat
end
for i, key in ipairs(KEYS) do
  redis.call('SET', key, string.format('%.6f', tats[i]), 'PX', math.ceil((tats[i] - now) * 1000) + 1000)
end
return {0}
"""


class RateLimited(ApiError):
    """429 rate_limited with Retry-After: the whole seconds until the request would fit."""

    def __init__(self, limit_name: str, retry_after: int) -> None:
        message = "Too many requests; try again later."
        headers = {"Retry-After": str(retry_after)}
        super().__init__(429, "rate_limited", message, details={"limit": limit_name}, headers=headers)


class LargerThanRateLimit(ApiError):
    """413 input_too_large: the request alone needs more tokens than a whole minute's limit, so it can never pass."""

    def __init__(self, limit_name: str, amount: int, limit: int) -> None:
        message = "This request needs more tokens than the rate limit allows in a minute; shorten the input."
        super().__init__(413, "input_too_large", message, details={"limit": limit_name, "size": amount, "max": limit})


@dataclass(frozen=True)
class LimitCheck:
    """One limit to charge: its state key, the amount, the limit per minute and its settings name."""

    key: str
    amount: int
    limit: int
    name: str

    @property
    def cost_seconds(self) -> float:
        """How far the amount moves the limit's TAT: one unit is paid back every 60/limit seconds."""
        return self.amount * PERIOD_SECONDS / self.limit


def checks_for(tenant_id: str, user_id: str, rate_limits: dict, tokens: int) -> list[LimitCheck]:
    """The configured limits a request of `tokens` tokens must pass, in a fixed key order (one lock order)."""
    owners = {"user": f"{tenant_id}:{user_id}", "tenant": tenant_id}
    checks = [
        LimitCheck(f"rl:{scope}:{kind}:{owners[scope]}", 1 if kind == "requests" else tokens, int(limit), name)
        for scope, kind, name in LIMIT_SETTINGS
        if (limit := rate_limits.get(name)) is not None
    ]
    for check in checks:
        if check.limit <= 0:  # a limit of 0 refuses everything, for a minute at a time
            raise RateLimited(check.name, int(PERIOD_SECONDS))
        if check.amount > check.limit:
            raise LargerThanRateLimit(check.name, check.amount, check.limit)
    return sorted(checks, key=lambda c: c.key)


def retry_after(wait_seconds: float) -> int:
    """The Retry-After of a wait: whole seconds, rounded up, at least 1."""
    return max(1, math.ceil(wait_seconds - 1e-6))


class RedisRateLimiter:
    """TATs in Redis keys that expire when they are paid back."""

    def __init__(self, client, prefix: str) -> None:
        self.prefix = prefix
        self._acquire = client.register_script(_ACQUIRE)

    def acquire(self, checks: list[LimitCheck], now: float | None = None) -> None:
        """Charge every check, or none and raise RateLimited."""
        if not checks:
            return
        now = time.time() if now is None else now
        keys = [f"{self.prefix}{c.key}" for c in checks]
        args = [repr(now), repr(PERIOD_SECONDS), *(repr(c.cost_seconds) for c in checks)]
        refused = self._acquire(keys=keys, args=args)
        if int(refused[0]):
            raise RateLimited(checks[int(refused[0]) - 1].name, retry_after(float(refused[1])))


class DatabaseRateLimiter:
    """TATs in the rate_limit_states table, one row per limit key (rows never outnumber users and tenants)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def acquire(self, checks: list[LimitCheck], now: float | None = None) -> None:
        """Charge every check, or none and raise RateLimited."""
        if not checks:
            return
        now = time.time() if now is None else now
        params: dict = {"now": now, "burst": PERIOD_SECONDS}
        for i, check in enumerate(checks):
            params[f"key_{i}"], params[f"cost_{i}"] = check.key, check.cost_seconds
        undo = {(c.key,): {"key": c.key, "cost": c.cost_seconds} for c in checks}
        charge = _charge_all_sql(self.engine.dialect.name, len(checks))
        if not charge_all_or_none(self.engine, charge, params, _take_back_sql(), undo):
            raise self._refusal(checks, now)

    def _refusal(self, checks: list[LimitCheck], now: float) -> RateLimited:
        """The first limit a refused request did not fit and how long to wait for it (read after the take-back)."""
        state = RateLimitState
        with self.engine.connect() as conn:
            tats = dict(conn.execute(select(state.key, state.tat).where(state.key.in_([c.key for c in checks]))).all())
        for check in checks:
            wait = max(tats.get(check.key, 0.0), now) + check.cost_seconds - now - PERIOD_SECONDS
            if wait > 0:
                return RateLimited(check.name, retry_after(wait))
        return RateLimited(checks[0].name, 1)  # paid back meanwhile: a retry at once would likely pass


@functools.cache
def _charge_all_sql(dialect: str, rows: int) -> TextClause:
    """One multi-row upsert that moves each limit's TAT where it fits, returning the keys it moved. A new row is a
    limit paid back before now (cost <= burst always: checks_for refuses larger amounts first)."""
    greatest = "GREATEST" if dialect == "postgresql" else "MAX"  # SQLite's two-argument max() is scalar
    values = ", ".join(f"(:key_{i}, :now + :cost_{i})" for i in range(rows))
    cost = "CASE " + " ".join(f'WHEN excluded."key" = :key_{i} THEN :cost_{i}' for i in range(rows)) + " END"
    moved = f"{greatest}({TABLE}.tat, :now) + {cost}"
    return text(
        f'INSERT INTO {TABLE} ("key", tat) VALUES {values} ON CONFLICT ("key")'  # noqa: S608 - our identifiers only
        f' DO UPDATE SET tat = {moved} WHERE {moved} - :now <= :burst RETURNING {TABLE}."key"'
    )


@functools.cache
def _take_back_sql() -> TextClause:
    """Give one limit's cost back (every charge only adds, so subtracting undoes exactly this request's share)."""
    return text(f'UPDATE {TABLE} SET tat = tat - :cost WHERE "key" = :key')  # noqa: S608 - our identifiers only


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
    """Admit one request of `tokens` tokens for this user, or raise RateLimited (429 with Retry-After) or
    LargerThanRateLimit (413: the request alone is over a token limit)."""
    rate_limiter(app).acquire(checks_for(tenant_id, user_id, rate_limits or {}, tokens), now=now)
