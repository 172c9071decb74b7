"""Short-lived per-process caches of what every request reads (verified tokens, tenant status, users, settings).

Each cache is per process and database, and keeps an entry for at most its TTL: HOT_CACHE_SECONDS for rows (default
2 s; 0 turns every cache off). A write of a watched row through the ORM in this process (API, CLI) empties the row
caches at once; a change made by another process takes effect within the TTL. Entries are bounded: a full cache is
emptied."""

from __future__ import annotations

import time
from typing import Any

from flask import Flask

DEFAULT_HOT_CACHE_SECONDS = 2.0
MAX_ENTRIES = 20_000
_MISSING = object()


class TtlCache:
    """A dict whose entries expire; `ttl` 0 disables it (every get misses, puts are dropped)."""

    def __init__(self, ttl: float, max_entries: int = MAX_ENTRIES) -> None:
        self.ttl, self.max_entries = ttl, max_entries
        self._entries: dict[Any, tuple[Any, float]] = {}

    def get(self, key: Any, default: Any = None) -> Any:
        """The cached value, or `default` when missing or expired."""
        entry = self._entries.get(key, _MISSING)
        if entry is _MISSING or entry[1] <= time.monotonic():
            return default
        return entry[0]

    def put(self, key: Any, value: Any, ttl: float | None = None) -> None:
        """Keep `value` for `ttl` seconds (default: the cache's TTL, and never longer when the cache is off)."""
        ttl = self.ttl if ttl is None else (ttl if self.ttl > 0 else 0)
        if ttl <= 0:
            return
        if len(self._entries) >= self.max_entries:
            self._entries.clear()  # bounded: refilling costs one read per key
        self._entries[key] = (value, time.monotonic() + ttl)

    def pop(self, key: Any) -> None:
        """Forget one entry."""
        self._entries.pop(key, None)


_caches: dict[tuple[str, str, float], TtlCache] = {}


def hot_cache(app: Flask, name: str) -> TtlCache:
    """The cache called `name` of the app's database (shared by the apps of one process on the same database, so a
    write through any of them, e.g. a CLI command, is seen at once), with the app's HOT_CACHE_SECONDS TTL."""
    ttl = float(app.config.get("HOT_CACHE_SECONDS", DEFAULT_HOT_CACHE_SECONDS))
    key = (name, str(app.config.get("DATABASE_URL")), ttl)
    cache = _caches.get(key)
    if cache is None:
        cache = _caches[key] = TtlCache(ttl)
    return cache


# Caches of rows: a flush of one of these models in this process empties them at once (other processes: TTL).
ROW_CACHES = ("tenant_status", "users", "settings", "catalog")
WATCHED_MODELS = frozenset({"Tenant", "User", "TenantSettings", "TenantProvider"})


def forget_rows() -> None:
    """Empty the process's caches of rows (not verified tokens: a token's signature does not change)."""
    for key in list(_caches):
        if key[0] in ROW_CACHES:
            _caches.pop(key, None)


def _after_flush(session: Any, _context: Any) -> None:
    """After a flush that wrote a watched row, forget the cached rows."""
    if any(type(row).__name__ in WATCHED_MODELS for row in (*session.new, *session.dirty, *session.deleted)):
        forget_rows()


def watch_row_changes() -> None:
    """Install the flush hook once per process (called by the app factory's auth set-up)."""
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)
