"""Sync code (Flask views, Celery tasks) runs async code on one asyncio loop per process, on a daemon thread.

Flask's async views make a new loop per request, which breaks pooled async clients ("Event loop is closed"). Here
one loop lives for the whole process and is recreated in a forked child (a loop thread never survives a fork).
`run_sync` runs one coroutine; `iterate` consumes an async generator through ONE pump task feeding a bounded
buffer, because submitting each `__anext__` separately runs every step in a different task and context, which
breaks OpenTelemetry spans and anything else kept in contextvars. `run_coroutine_threadsafe` copies the caller's
contextvars into the task, so the request's context is visible inside the coroutine.
"""

from __future__ import annotations

import asyncio
import os
import queue
import threading
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from typing import Any, TypeVar

T = TypeVar("T")

_state_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None
_loop_thread: threading.Thread | None = None
_loop_pid: int | None = None
_fork_hook_registered = False


def _reset_after_fork() -> None:
    """In a forked child, forget the parent's loop and replace a lock another thread may have held at the fork."""
    global _state_lock, _loop, _loop_thread, _loop_pid
    _state_lock = threading.Lock()
    _loop, _loop_thread, _loop_pid = None, None, None


def _run_loop(loop: asyncio.AbstractEventLoop, started: threading.Event) -> None:
    """Body of the loop thread: run the loop until the process ends."""
    asyncio.set_event_loop(loop)
    loop.call_soon(started.set)
    loop.run_forever()


def get_loop() -> asyncio.AbstractEventLoop:
    """This process's bridge loop, started on first use and again after a fork (the pid tells)."""
    global _loop, _loop_thread, _loop_pid, _fork_hook_registered
    # Fast path without the lock: every call would otherwise take it, and under gevent the liveness check below
    # (Thread.is_alive) yields to the hub while holding it, which queued every stream of a busy worker behind it.
    loop = _loop
    if loop is not None and _loop_pid == os.getpid() and loop.is_running():
        return loop
    with _state_lock:
        if not _fork_hook_registered:
            os.register_at_fork(after_in_child=_reset_after_fork)
            _fork_hook_registered = True
        alive = _loop_thread is not None and _loop_thread.is_alive()
        if _loop is None or _loop_pid != os.getpid() or not alive:
            loop = asyncio.new_event_loop()
            started = threading.Event()
            thread = threading.Thread(target=_run_loop, args=(loop, started), name="asyncbridge-loop", daemon=True)
            thread.start()
            started.wait()
            _loop, _loop_thread, _loop_pid = loop, thread, os.getpid()
        return _loop


def _refuse_on_loop_thread() -> None:
    """Waiting for the loop from its own thread would deadlock; fail loudly instead."""
    if _loop_thread is not None and threading.current_thread() is _loop_thread and _loop_pid == os.getpid():
        raise RuntimeError("asyncbridge: called from the bridge loop itself; await the coroutine instead")


def run_sync(coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
    """Run a coroutine on the bridge loop and return its result; cancel it if the wait times out or is interrupted."""
    try:
        _refuse_on_loop_thread()
    except RuntimeError:
        coro.close()  # never awaited: close it so Python does not warn about it too
        raise
    future = asyncio.run_coroutine_threadsafe(coro, get_loop())
    try:
        return future.result(timeout)
    except BaseException:
        # TimeoutError, KeyboardInterrupt, a gevent Timeout, GeneratorExit: nobody will read the result any more.
        future.cancel()
        raise


_ITEM, _END, _ERROR, _QUIET = "item", "end", "error", "quiet"
SILENCE = object()  # what an iterator made with `silence_after` yields when its source stayed quiet that long


class Silence:
    """A silence period and when its stream last showed life, on the loop's clock (time.monotonic()).

    `iterate(..., silence_after=silence)` yields SILENCE whenever nobody called `note()` for `seconds`: the owner
    decides what counts as life (an SSE writer notes each write, so a keepalive follows what the client received,
    whatever the source produced), and one Silence may span several iterators in turn (a fallback to the next model).
    With `silence_after=seconds` instead, each chunk of the source counts.
    """

    __slots__ = ("seconds", "last_activity")

    def __init__(self, seconds: float) -> None:
        """A silence of `seconds`, counted from now."""
        if not seconds > 0:
            raise ValueError("silence_after must be a positive number of seconds (or None)")
        self.seconds = seconds
        self.last_activity = time.monotonic()

    def note(self) -> None:
        """The stream showed life now (any thread: one float written)."""
        self.last_activity = time.monotonic()


class _Buffer:
    """A bounded hand-over from the pump task (on the loop) to one sync reader (any thread).

    A C-implemented SimpleQueue carries the chunks: a Python Condition per stream cost several times more CPU per
    chunk with hundreds of waiting threads. The bound is kept by the pump, which waits for the reader's signal only
    when the queue is full, so a chunk costs no cross-thread call to the loop.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, max_items: int, silence: Silence | None, own: bool) -> None:
        """An empty buffer holding at most max_items chunks before the pump waits; with a silence, a `quiet` entry is
        added whenever it was not noted for its seconds (own: the buffer notes each chunk itself)."""
        self.loop = loop
        self.max_items = max_items
        self.entries: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
        self.space = asyncio.Event()
        self.pump_waiting = False
        self.silence = silence
        self.chunks_are_activity = own and silence is not None
        self.silence_timer: asyncio.TimerHandle | None = None

    def watch_silence(self) -> None:
        """On the loop: start noting silences. One timer per silence period, not one per chunk: a chunk only
        records the time, and the timer, when it fires, either reports a silence or moves to the new deadline."""
        if self.silence is not None:
            if self.chunks_are_activity:
                self.silence.last_activity = self.loop.time()
            self._arm()

    def _arm(self) -> None:
        """On the loop: wake up when the silence would be complete if nothing is noted before."""
        self.silence_timer = self.loop.call_at(self.silence.last_activity + self.silence.seconds, self._check_silence)

    def _check_silence(self) -> None:
        """On the loop: report a silence if nothing was noted since the deadline was set, then set the next one."""
        now = self.loop.time()
        if now - self.silence.last_activity >= self.silence.seconds:
            self.entries.put((_QUIET, None))
            self.silence.last_activity = now
        self._arm()

    def stop_watching(self) -> None:
        """On the loop: no more silence reports (the stream ended or was cancelled)."""
        if self.silence_timer is not None:
            self.silence_timer.cancel()
            self.silence_timer = None

    def offer(self, item: Any) -> bool:
        """On the loop: add a chunk if there is room (the usual case, with no coroutine to await); False if full."""
        if self.entries.qsize() >= self.max_items:
            return False
        if self.chunks_are_activity:
            self.silence.last_activity = self.loop.time()
        self.entries.put((_ITEM, item))
        return True

    async def put(self, item: Any) -> None:
        """On the loop: add a chunk, first waiting while the buffer is full (the reader is slower than the source)."""
        while not self.offer(item):
            self.space.clear()
            self.pump_waiting = True
            # Re-check after raising the flag: the reader may have emptied the queue before it could see the flag.
            if self.entries.qsize() < self.max_items:
                self.pump_waiting = False
                continue
            await self.space.wait()

    def finish(self, kind: str, value: Any = None) -> None:
        """On the loop: mark the end of the stream (or its failure); never blocks."""
        self.entries.put((kind, value))

    def get(self) -> tuple[str, Any]:
        """On the reader's thread: the next entry, waiting for it (silences arrive as `quiet` entries)."""
        entry = self.entries.get()
        if self.pump_waiting:
            self.pump_waiting = False
            self.loop.call_soon_threadsafe(self.space.set)
        return entry


async def _pump(agen_factory: Callable[[], AsyncIterator[T]], buffer: _Buffer) -> None:
    """The one task that drives the async generator; cancelling it closes the generator (its finally blocks run)."""
    agen = None
    buffer.watch_silence()
    try:
        agen = agen_factory()
        async for item in agen:
            if not buffer.offer(item):
                await buffer.put(item)
    except asyncio.CancelledError:
        raise
    except BaseException as exc:  # noqa: BLE001 - handed to the reader, which re-raises it
        buffer.finish(_ERROR, exc)
    else:
        buffer.finish(_END)
    finally:
        buffer.stop_watching()
        aclose = getattr(agen, "aclose", None)  # None too when the factory itself failed
        if aclose is not None:
            await aclose()


class BridgedIterator(Iterator[T]):
    """The sync side of an async generator; close() (or garbage collection) cancels the pump."""

    def __init__(
        self,
        agen_factory: Callable[[], AsyncIterator[T]],
        max_buffer: int,
        silence_after: float | Silence | None = None,
    ) -> None:
        """Start the pump on the bridge loop."""
        own = not isinstance(silence_after, Silence)
        silence = Silence(silence_after) if own and silence_after is not None else silence_after
        _refuse_on_loop_thread()
        loop = get_loop()
        self._buffer = _Buffer(loop, max_buffer, silence, own)
        self._future = asyncio.run_coroutine_threadsafe(_pump(agen_factory, self._buffer), loop)
        self._finished = False

    def __next__(self) -> T:
        """The next chunk (or SILENCE, with silence_after); StopIteration at the end; the generator's exception if
        it failed."""
        if self._finished:
            raise StopIteration
        try:
            kind, value = self._buffer.get()
        except BaseException:
            self.close()
            raise
        if kind == _ITEM:
            return value
        if kind == _QUIET:
            return SILENCE
        self._finished = True
        if kind == _ERROR:
            raise value
        raise StopIteration

    def close(self) -> None:
        """Stop consuming: cancel the pump, which closes the async generator (its finally blocks run)."""
        self._finished = True
        self._future.cancel()

    def __del__(self) -> None:
        """A reader dropped without close() must not leave the pump running forever."""
        future = getattr(self, "_future", None)
        if future is not None:
            future.cancel()


def iterate(
    agen_factory: Callable[[], AsyncIterator[T]], max_buffer: int = 64, silence_after: float | Silence | None = None
) -> BridgedIterator[T]:
    """Iterate an async generator from sync code; agen_factory is called on the loop so the generator lives there.

    With silence_after, the iterator also yields SILENCE whenever the generator gave nothing for that many seconds,
    or, given a Silence, whenever its owner noted nothing for its seconds (SSE keepalives). This costs one loop timer
    per silence period: the reader waits with no timeout of its own, which under gevent would start and cancel a
    timer for every chunk.
    """
    return BridgedIterator(agen_factory, max_buffer, silence_after)
