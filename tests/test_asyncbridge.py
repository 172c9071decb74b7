"""The async bridge: one loop per process, coroutines and async generators driven from sync threads."""

from __future__ import annotations

import asyncio
import contextvars
import os
import subprocess
import sys
import threading
import time

import pytest

from backend import asyncbridge

caller_tag: contextvars.ContextVar[str] = contextvars.ContextVar("caller_tag", default="unset")


async def where_am_i(tag: str) -> tuple[str, int, str]:
    """Report the thread, loop and context this coroutine ran in."""
    await asyncio.sleep(0.001)
    return threading.current_thread().name, id(asyncio.get_running_loop()), f"{tag}:{caller_tag.get()}"


def test_run_sync_from_many_threads_uses_one_loop_and_the_callers_context():
    results: list[tuple[str, int, str]] = []
    lock = threading.Lock()

    def caller(index: int) -> None:
        caller_tag.set(f"thread-{index}")
        for _ in range(5):
            outcome = asyncbridge.run_sync(where_am_i(str(index)), timeout=10)
            with lock:
                results.append(outcome)

    threads = [threading.Thread(target=caller, args=(i,)) for i in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 80
    assert {name for name, _, _ in results} == {"asyncbridge-loop"}
    assert {loop_id for _, loop_id, _ in results} == {id(asyncbridge.get_loop())}
    assert all(tag == f"{tag.split(':')[0]}:thread-{tag.split(':')[0]}" for _, _, tag in results)


def test_exceptions_propagate_to_the_caller():
    async def fail() -> None:
        raise LookupError("from the loop")

    with pytest.raises(LookupError, match="from the loop"):
        asyncbridge.run_sync(fail())


def test_timeout_cancels_the_coroutine():
    cancelled = threading.Event()

    async def slow() -> None:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    with pytest.raises(TimeoutError):
        asyncbridge.run_sync(slow(), timeout=0.05)
    assert cancelled.wait(5)


def test_waiting_from_the_loop_itself_is_refused():
    async def nested() -> None:
        asyncbridge.run_sync(asyncio.sleep(0))

    with pytest.raises(RuntimeError, match="bridge loop itself"):
        asyncbridge.run_sync(nested(), timeout=5)


def test_a_forked_child_gets_its_own_working_loop():
    parent_loop = asyncbridge.get_loop()
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never return into pytest
        status = 1
        try:
            name, loop_id, _ = asyncbridge.run_sync(where_am_i("child"), timeout=5)
            fresh = asyncbridge.get_loop() is not parent_loop and loop_id == id(asyncbridge.get_loop())
            os.write(writer, f"{name} {fresh}".encode())
            status = 0
        finally:
            os._exit(status)
    os.close(writer)
    deadline = time.monotonic() + 20
    while (finished := os.waitpid(pid, os.WNOHANG))[0] == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    if finished[0] == 0:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        pytest.fail("the forked child hung using the bridge")
    report = os.read(reader, 200).decode()
    os.close(reader)
    assert os.waitstatus_to_exitcode(finished[1]) == 0
    assert report == "asyncbridge-loop True"
    assert asyncbridge.run_sync(where_am_i("parent"), timeout=5)[1] == id(parent_loop)


def test_iterate_drives_the_generator_in_one_task_with_the_callers_context():
    async def numbers():
        for number in range(20):
            await asyncio.sleep(0)
            yield number, id(asyncio.current_task()), caller_tag.get()

    caller_tag.set("request-42")
    chunks = list(asyncbridge.iterate(numbers))
    assert [number for number, _, _ in chunks] == list(range(20))
    assert len({task for _, task, _ in chunks}) == 1
    assert {tag for _, _, tag in chunks} == {"request-42"}


def test_iterate_reraises_the_generators_exception_after_its_items():
    async def breaks():
        yield "first"
        raise ValueError("source failed")

    stream = asyncbridge.iterate(breaks)
    assert next(stream) == "first"
    with pytest.raises(ValueError, match="source failed"):
        next(stream)
    with pytest.raises(StopIteration):
        next(stream)


def test_closing_the_iterator_cancels_the_generator():
    finished = threading.Event()

    async def endless():
        try:
            while True:
                await asyncio.sleep(0.01)
                yield "tick"
        finally:
            finished.set()

    stream = asyncbridge.iterate(endless)
    assert next(stream) == "tick"
    stream.close()
    assert finished.wait(5)
    with pytest.raises(StopIteration):
        next(stream)


def test_a_slow_reader_holds_the_producer_back():
    produced = 0

    async def fast():
        nonlocal produced
        for number in range(200):
            produced += 1
            yield number

    stream = asyncbridge.iterate(fast, max_buffer=4)
    consumed = 0
    for _ in range(5):
        next(stream)
        consumed += 1
        time.sleep(0.05)  # give an unbounded producer every chance to run ahead
        assert produced <= consumed + 4 + 1
    stream.close()


def test_the_reader_hears_of_silences_before_a_late_chunk():
    async def quiet():
        await asyncio.sleep(0.5)
        yield "late"

    stream = asyncbridge.iterate(quiet, silence_after=0.01)
    assert next(stream) is asyncbridge.SILENCE
    rest = list(stream)
    assert rest[-1] == "late"
    assert all(item is asyncbridge.SILENCE for item in rest[:-1])


def test_silence_after_reports_silences_and_only_silences():
    async def steady_then_quiet():
        for index in range(6):
            await asyncio.sleep(0.02)  # faster than the silence period: never reported as silence
            yield index
        await asyncio.sleep(0.35)
        yield "late"

    stream = asyncbridge.iterate(steady_then_quiet, silence_after=0.1)
    items = list(stream)
    assert items[:6] == [0, 1, 2, 3, 4, 5]
    assert items[-1] == "late"
    silences = items[6:-1]
    assert 2 <= len(silences) <= 4 and all(item is asyncbridge.SILENCE for item in silences)


@pytest.mark.parametrize("period", [0, -1.0])
def test_silence_after_must_be_positive(period):
    async def never():
        yield "x"

    with pytest.raises(ValueError):
        asyncbridge.iterate(never, silence_after=period)


def test_no_silence_reports_without_silence_after():
    async def quiet():
        await asyncio.sleep(0.2)
        yield "late"

    assert list(asyncbridge.iterate(quiet)) == ["late"]


GEVENT_CHECK = """
from gevent import monkey
monkey.patch_all()
import asyncio, threading
import gevent
from backend import asyncbridge

async def double(value):
    await asyncio.sleep(0.01)
    return value * 2

# many greenlets at once, as a gevent worker serves requests
jobs = [gevent.spawn(asyncbridge.run_sync, double(i), 10) for i in range(50)]
gevent.joinall(jobs, timeout=20)
assert [job.value for job in jobs] == [i * 2 for i in range(50)], [job.value for job in jobs]

cancelled = threading.Event()
async def slow():
    try:
        await asyncio.sleep(30)
    except asyncio.CancelledError:
        cancelled.set()
        raise
try:
    asyncbridge.run_sync(slow(), timeout=0.05)
except TimeoutError:
    pass
assert cancelled.wait(5)

closed = threading.Event()
async def ticks():
    try:
        while True:
            await asyncio.sleep(0.01)
            yield "tick"
    finally:
        closed.set()
stream = asyncbridge.iterate(ticks)
assert [next(stream) for _ in range(3)] == ["tick"] * 3
stream.close()
assert closed.wait(5)
print("bridge ok under gevent")
"""


def test_the_bridge_works_in_a_gevent_monkeypatched_process():
    result = subprocess.run([sys.executable, "-c", GEVENT_CHECK], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "bridge ok under gevent"


def test_a_failing_factory_reaches_the_reader():
    def no_generator():
        raise KeyError("no such model")

    with pytest.raises(KeyError, match="no such model"):
        next(asyncbridge.iterate(no_generator))
