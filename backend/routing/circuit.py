"""Circuit breaker per model ref, shared by every process: in Redis when REDIS_URL is set, else in the database.

closed -> open after `threshold` consecutive retryable failures (or at once on a 429 with Retry-After, which keeps
it open exactly that long); open -> half_open when the cool-down ends: then one request at a time may probe
(`try_probe`); a success closes it, a failure opens it again for another cool-down, and a probe that ended without
a verdict (its caller left before any answer) is given back (`release_probe`) rather than held until `probe_timeout`
(should it have outlived that timeout, the next caller's probe is freed too: at worst two probes, never a stuck one).
Every change is one atomic step (a Lua script, or a conditional UPDATE), so concurrent processes never lose a failure
or probe twice.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from typing import Any

from flask import Flask
from sqlalchemy import Engine, case, select, update

from backend.metering.store import insert_ignore, key_prefix, shared_redis
from backend.models.accounting import CircuitState

EXTENSION_KEY = "switchboard.circuit"
KEY_TTL_SECONDS = 86_400  # forget a model's failures a day after the last one

_FAILURE = """
local now, threshold, cooldown, retry_after = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
if retry_after >= 0 then
  redis.call('HSET', KEYS[1], 'open_until', tostring(now + retry_after), 'failures', 0, 'tripped', 1, 'probe_until', 0)
else
  local failures = redis.call('HINCRBY', KEYS[1], 'failures', 1)
  local open_until = tonumber(redis.call('HGET', KEYS[1], 'open_until') or '0')
  if failures >= threshold or redis.call('HGET', KEYS[1], 'tripped') == '1' then
    local reopen = math.max(open_until, now + cooldown)
    redis.call('HSET', KEYS[1], 'open_until', tostring(reopen), 'failures', 0, 'tripped', 1, 'probe_until', 0)
  end
end
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[5]))
"""
_PROBE = """
local now = tonumber(ARGV[1])
local open_until = tonumber(redis.call('HGET', KEYS[1], 'open_until') or '0')
local probe_until = tonumber(redis.call('HGET', KEYS[1], 'probe_until') or '0')
if now < open_until or now < probe_until then return 0 end
redis.call('HSET', KEYS[1], 'probe_until', tostring(now + tonumber(ARGV[2])))
return 1
"""
_RELEASE = """
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HSET', KEYS[1], 'probe_until', 0) end
"""
_SUCCESS = """
local open_until = tonumber(redis.call('HGET', KEYS[1], 'open_until') or '0')
if tonumber(ARGV[1]) >= open_until then redis.call('DEL', KEYS[1]) end
"""


@dataclass(frozen=True)
class CircuitSettings:
    """Thresholds of the breaker."""

    threshold: int = 3
    cooldown: float = 30.0
    probe_timeout: float = 60.0


def circuit_key(catalog: Any, model: Any) -> str:
    """The circuit a model's calls feed: its ref for a platform provider, one of the owner's own for a tenant's.

    Circuit state is shared by every tenant, and a tenant may name its provider like a platform one (or like another
    tenant's), so a tenant's endpoint or key failing must never open the circuit other tenants route by. Hashed to
    fit the state's key column whatever the length of the ref.
    """
    owner = catalog.provider_of(model).owner
    if owner is None:
        return model.ref
    return "tenant:" + hashlib.sha256(f"{owner}/{model.ref}".encode()).hexdigest()


def state_of(open_until: float, tripped: bool, now: float) -> str:
    """closed, open or half_open."""
    if now < open_until:
        return "open"
    return "half_open" if tripped else "closed"


class RedisCircuitBreaker:
    """Circuit state in Redis hashes, one per model ref."""

    def __init__(self, client, prefix: str, settings: CircuitSettings) -> None:
        self.client, self.prefix, self.settings = client, prefix, settings
        self._failure = client.register_script(_FAILURE)
        self._probe = client.register_script(_PROBE)
        self._success = client.register_script(_SUCCESS)
        self._release = client.register_script(_RELEASE)

    def _key(self, ref: str) -> str:
        """The Redis hash of one model ref."""
        return f"{self.prefix}circuit:{ref}"

    def states(self, refs: list[str], now: float | None = None) -> dict[str, str]:
        """The state of each ref, read in one round trip."""
        now = time.time() if now is None else now
        pipe = self.client.pipeline(transaction=False)
        for ref in refs:
            pipe.hmget(self._key(ref), "open_until", "tripped")
        rows = pipe.execute()
        return {ref: state_of(float(o or 0), t == b"1", now) for ref, (o, t) in zip(refs, rows, strict=True)}

    def record_failure(self, ref: str, retry_after: float | None = None, now: float | None = None) -> None:
        """Count a retryable failure; a Retry-After opens the circuit for exactly that long."""
        now = time.time() if now is None else now
        s = self.settings
        args = [now, s.threshold, s.cooldown, -1 if retry_after is None else retry_after, KEY_TTL_SECONDS]
        self._failure(keys=[self._key(ref)], args=args)

    def try_probe(self, ref: str, now: float | None = None) -> bool:
        """Claim the one probe of a half-open circuit (always true when closed); false while open or claimed."""
        now = time.time() if now is None else now
        return bool(self._probe(keys=[self._key(ref)], args=[now, self.settings.probe_timeout]))

    def release_probe(self, ref: str) -> None:
        """Give back a half-open circuit's probe without a verdict: the next caller may probe at once."""
        self._release(keys=[self._key(ref)])  # a script: never creates the hash of a circuit closed meanwhile

    def record_success(self, ref: str, now: float | None = None) -> None:
        """Close the circuit, unless a Retry-After still holds it open."""
        self._success(keys=[self._key(ref)], args=[time.time() if now is None else now])


class DatabaseCircuitBreaker:
    """Circuit state in the circuit_states table, changed only by conditional UPDATEs."""

    def __init__(self, engine: Engine, settings: CircuitSettings) -> None:
        self.engine, self.settings = engine, settings
        self.table = CircuitState.__table__

    def states(self, refs: list[str], now: float | None = None) -> dict[str, str]:
        """The state of each ref, read in one query."""
        now = time.time() if now is None else now
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(CircuitState.ref, CircuitState.open_until, CircuitState.tripped).where(
                    CircuitState.ref.in_(refs)
                )
            ).all()
        found = {ref: state_of(open_until, tripped, now) for ref, open_until, tripped in rows}
        return {ref: found.get(ref, "closed") for ref in refs}

    def record_failure(self, ref: str, retry_after: float | None = None, now: float | None = None) -> None:
        """Count a retryable failure; a Retry-After opens the circuit for exactly that long."""
        now = time.time() if now is None else now
        c, s = CircuitState, self.settings
        opened = {"failures": 0, "tripped": True, "probe_until": 0.0}
        with self.engine.begin() as conn:
            insert_ignore(conn, self.table, {"ref": ref, "failures": 0, "open_until": 0.0, "tripped": False})
            if retry_after is not None:
                conn.execute(update(c).where(c.ref == ref).values(open_until=now + retry_after, **opened))
                return
            conn.execute(update(c).where(c.ref == ref).values(failures=c.failures + 1))
            # Never shortens an open period (a Retry-After may hold it open longer than the cool-down).
            reopen_until = case((c.open_until < now + s.cooldown, now + s.cooldown), else_=c.open_until)
            reopen = update(c).where(c.ref == ref, (c.failures >= s.threshold) | c.tripped)
            conn.execute(reopen.values(open_until=reopen_until, **opened))

    def try_probe(self, ref: str, now: float | None = None) -> bool:
        """Claim the one probe of a half-open circuit (always true when closed); false while open or claimed."""
        now = time.time() if now is None else now
        c = CircuitState
        with self.engine.begin() as conn:
            claim = update(c).where(c.ref == ref, c.open_until <= now, c.probe_until <= now)
            result = conn.execute(claim.values(probe_until=now + self.settings.probe_timeout))
            if result.rowcount:
                return True
            return conn.execute(select(c.ref).where(c.ref == ref)).first() is None  # no row: closed

    def release_probe(self, ref: str) -> None:
        """Give back a half-open circuit's probe without a verdict: the next caller may probe at once."""
        with self.engine.begin() as conn:
            conn.execute(update(CircuitState).where(CircuitState.ref == ref).values(probe_until=0.0))

    def record_success(self, ref: str, now: float | None = None) -> None:
        """Close the circuit, unless a Retry-After still holds it open."""
        now = time.time() if now is None else now
        c = CircuitState
        with self.engine.begin() as conn:
            conn.execute(
                update(c)
                .where(c.ref == ref, c.open_until <= now)
                .values(failures=0, tripped=False, open_until=0.0, probe_until=0.0)
            )


class CachedCircuitStates:
    """A breaker whose state reads are cached in the process for a moment, so routing costs no round trip.

    A process sees another process's change at most `ttl` seconds late, and its own changes at once. For a breaker
    that is harmless: during that moment a few calls may still reach a failing model, fail fast, and fall back.
    """

    def __init__(self, breaker: RedisCircuitBreaker | DatabaseCircuitBreaker, ttl: float) -> None:
        self.breaker, self.ttl = breaker, ttl
        self._cache: dict[str, tuple[str, float]] = {}
        self._failed: set[str] = set()  # refs this process recorded a failure of since its last success write

    def states(self, refs: list[str], now: float | None = None) -> dict[str, str]:
        """The state of each ref; only refs not read within the last `ttl` seconds are fetched, in one batch."""
        clock = time.monotonic()
        stale = [ref for ref in refs if (hit := self._cache.get(ref)) is None or clock - hit[1] >= self.ttl]
        if stale:
            for ref, state in self.breaker.states(stale, now=now).items():
                self._cache[ref] = (state, clock)
        return {ref: self._cache[ref][0] for ref in refs}

    def record_failure(self, ref: str, retry_after: float | None = None, now: float | None = None) -> None:
        """Record in the shared store and forget the cached state."""
        self._failed.add(ref)
        self.breaker.record_failure(ref, retry_after=retry_after, now=now)
        self._cache.pop(ref, None)

    def record_success(self, ref: str, now: float | None = None) -> None:
        """Record in the shared store and forget the cached state.

        Skipped (no write per call) while the circuit was seen closed within `ttl` and this process has recorded
        no failure of it since its last success: then there is nothing of ours to reset. Each process resets the
        failures it counted itself, so a model's failures are never left standing by a success.
        """
        hit = self._cache.get(ref)
        fresh = hit is not None and hit[0] == "closed" and time.monotonic() - hit[1] < self.ttl
        if fresh and ref not in self._failed:
            return
        self.breaker.record_success(ref, now=now)
        self._failed.discard(ref)
        self._cache.pop(ref, None)

    def try_probe(self, ref: str, now: float | None = None) -> bool:
        """Always asks the shared store: only one process may win the probe."""
        return self.breaker.try_probe(ref, now=now)

    def release_probe(self, ref: str) -> None:
        """Give back a probe in the shared store (the cached state, half-open, stays true)."""
        self.breaker.release_probe(ref)


def circuit_breaker(app: Flask) -> CachedCircuitStates:
    """The app's breaker (created once per app and process): Redis when configured, the database otherwise."""
    breaker = app.extensions.get(EXTENSION_KEY)
    if breaker is None:
        from backend.extensions import db

        settings = CircuitSettings(
            threshold=int(app.config["CIRCUIT_FAILURE_THRESHOLD"]),
            cooldown=float(app.config["CIRCUIT_COOLDOWN_SECONDS"]),
            probe_timeout=float(app.config["CIRCUIT_PROBE_TIMEOUT_SECONDS"]),
        )
        client = shared_redis(app)
        if client is not None:
            breaker = RedisCircuitBreaker(client, key_prefix(app), settings)
        else:
            with app.app_context():
                breaker = DatabaseCircuitBreaker(db.engine, settings)
        breaker = CachedCircuitStates(breaker, float(app.config["CIRCUIT_STATE_CACHE_SECONDS"]))
        app.extensions[EXTENSION_KEY] = breaker
    return breaker
