"""Spreading keep-alive connections evenly over gunicorn's workers.

All workers accept from the one listening socket the master opened, and whichever worker the kernel wakes first takes
a new connection. A worker that is already running wins that race against one asleep in epoll, so a burst of
connections lands mostly on one worker: bench/overhead.py at 10 clients found 9 of 10 on one worker, one core busy
and the other idle (gunicorn issues #2095, #3105). Long-lived connections (keep-alive clients, a reverse proxy's
upstream pool, streams) stay where they landed.

Here each worker counts its open connections in a small array of shared memory that the master makes before it forks
any worker (one slot per live worker, -1 for a free slot). A worker holding more than `MARGIN` connections above the
least loaded live worker steps back for `DEFER_SECONDS` before accepting (backend/gevent_worker.py): the others, woken
by the same connection, take it meanwhile; if none did (all busy, or hung), it takes the connection itself after the
pause. So the nudge costs at most that pause and never leaves a connection waiting on a stuck worker.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterable

MAX_WORKERS = 64  # workers beyond this many are simply not balanced
MARGIN = 1  # connections above the least loaded worker a worker may hold before it steps back
DEFER_SECONDS = 0.002
FREE = -1


class ConnectionBalance:
    """Open connections per worker slot, in memory shared by the master and every worker it forks."""

    def __init__(self, slots: int = MAX_WORKERS) -> None:
        self.counts = multiprocessing.RawArray("i", [FREE] * slots)

    def claim_slot(self, taken: Iterable[int | None]) -> int | None:
        """In the master, before forking a worker: the first slot no live worker holds, zeroed (None if all full)."""
        used = {slot for slot in taken if slot is not None}
        slot = next((i for i in range(len(self.counts)) if i not in used), None)
        if slot is not None:
            self.counts[slot] = 0
        return slot

    def release_slot(self, slot: int | None) -> None:
        """In the master, once a worker has exited: its slot no longer counts as a worker."""
        if slot is not None:
            self.counts[slot] = FREE

    def opened(self, slot: int) -> None:
        """In a worker: one more open connection (only its own process writes its slot)."""
        self.counts[slot] += 1

    def closed(self, slot: int) -> None:
        """In a worker: one connection fewer."""
        self.counts[slot] -= 1

    def over_share(self, slot: int) -> bool:
        """Whether this worker holds more than MARGIN connections above the least loaded other live worker."""
        others = [count for i, count in enumerate(self.counts) if i != slot and count != FREE]
        return bool(others) and self.counts[slot] > min(others) + MARGIN
