"""How many slow concurrent SSE streams one machine holds, per gunicorn worker model, compared in one run.

Each stream is the diagnostics endpoint sending a token every 50 ms for 20 s (5 s with --quick). For 100, 500 and
1,000 concurrent streams it reports the streams that completed and the added inter-token delay (observed gap between
two tokens minus 50 ms) at p50/p99/max, the server's CPU in total and per token, and the load client's CPU. The
load runs in separate processes, each one epoll loop on raw non-blocking sockets, so the client costs little.

    .venv/bin/python bench/streams.py            # full: 20 s streams
    .venv/bin/python bench/streams.py --quick    # 5 s streams
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import select
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

INTERVAL_MS = 50
TOKEN_MARK, DONE_MARK = b"event: token", b"event: done"
# name -> extra options of `switchboard run`
WORKER_MODELS = {
    "gthread 2x1000": ["--worker-class", "gthread", "--workers", "2", "--threads", "1000"],
    "gevent 2x1000": ["--worker-class", "gevent", "--workers", "2"],
}


# The printed table: title, row key, width, (alignment, format).
COLUMNS = [
    ("worker model", "model", 16, ("<", "")),
    ("streams", "streams", 7, (">", "")),
    ("completed", "completed", 9, (">", "")),
    ("p50 ms", "p50", 7, (">", ".1f")),
    ("p99 ms", "p99", 7, (">", ".1f")),
    ("max ms", "max", 7, (">", ".1f")),
    ("mean ms", "mean", 7, (">", ".1f")),
    ("wall s", "wall", 6, (">", ".1f")),
    ("cpu s", "cpu", 6, (">", ".1f")),
    ("cpu us/token", "cpu_us_per_token", 12, (">", ".0f")),
    ("client cpu s", "client_cpu", 12, (">", ".1f")),
]


def free_port() -> int:
    """A port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def diagnostic_request(tokens: int) -> bytes:
    """The GET of one diagnostics stream."""
    path = f"/api/_diagnostics/stream?tokens={tokens}&interval_ms={INTERVAL_MS}"
    return f"GET {path} HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n".encode()


def read_streams(
    port: int,
    requests: list[bytes],
    streams: int,
    ramp_seconds: float,
    token_mark: bytes = TOKEN_MARK,
    done_mark: bytes = DONE_MARK,
) -> tuple[list[float], int]:
    """Open `streams` streams spread over the ramp (as users arrive) and read them all; gaps and completed count.

    One epoll loop on non-blocking sockets (no asyncio: its per-read cost would be a large share of a 2-core
    machine that also runs the server). A gap is the time between two token events arriving on one stream; the
    endpoint paces tokens on a fixed schedule, so a stall shows as one long gap followed by a burst of short ones:
    p99 shows the stalls, and the mean shows whether the server kept the pace overall.
    """
    starts = sorted(random.uniform(0, ramp_seconds) for _ in range(streams))
    poller = select.epoll()
    open_streams: dict[int, list] = {}  # fd -> [socket, unparsed tail, last token time, done]
    gaps: list[float] = []
    completed = 0
    clock = time.monotonic
    begin = clock()
    opened = 0
    while opened < len(starts) or open_streams:
        now = clock()
        while opened < len(starts) and begin + starts[opened] <= now:
            connection = socket.create_connection(("127.0.0.1", port))
            connection.sendall(requests[opened % len(requests)])
            connection.setblocking(False)
            open_streams[connection.fileno()] = [connection, b"", None, False]
            poller.register(connection.fileno(), select.EPOLLIN)
            opened += 1
        wait = begin + starts[opened] - now if opened < len(starts) else 1.0
        for fd, _ in poller.poll(max(0.0, wait)):
            state = open_streams[fd]
            try:
                data = state[0].recv(65536)
            except OSError:
                data = b""
            arrived = clock()
            if data:
                # Count markers instead of parsing events; the kept tail (shorter than a token marker) catches a
                # marker split between two reads without counting any twice.
                seen = state[1] + data
                tokens = seen.count(token_mark)
                if tokens:
                    if state[2] is not None:
                        gaps.append(arrived - state[2])
                    gaps.extend([0.0] * (tokens - 1))  # tokens that arrived together: no gap between them
                    state[2] = arrived
                state[3] = done_mark in seen
                state[1] = seen[1 - len(token_mark) :]
            if not data or state[3]:
                completed += state[3]
                poller.unregister(fd)
                state[0].close()
                del open_streams[fd]
    poller.close()
    return gaps, completed


def load_process(port: int, requests: list[bytes], streams: int, ramp_seconds: float, marks, results) -> None:
    """Entry point of one load process; also reports the CPU it used, to show the client is not the bottleneck."""
    gaps, completed = read_streams(port, requests, streams, ramp_seconds, *marks)
    results.put((gaps, completed, time.process_time()))


def cpu_seconds(master_pid: int) -> float:
    """User+system CPU seconds used so far by the gunicorn master and its live workers (from /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(entry.name) == master_pid or int(fields[1]) == master_pid:
            total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def start_server(options: list[str], instance: str) -> tuple[subprocess.Popen, int]:
    """Start `switchboard run` with diagnostics on; return it once it answers."""
    port = free_port()
    env = {
        **os.environ,
        "SWITCHBOARD_ENABLE_DIAGNOSTICS": "true",
        "SWITCHBOARD_INSTANCE_PATH": instance,
        "SWITCHBOARD_LOG_LEVEL": "WARNING",
    }
    command = [str(Path(sys.executable).with_name("switchboard")), "run", "--port", str(port), *options]
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/_diagnostics/stream?tokens=1&interval_ms=0").read()
            return server, port
        except OSError:
            time.sleep(0.3)
    server.kill()
    raise RuntimeError("the server did not start")


def measure(
    port: int,
    master_pid: int,
    streams: int,
    seconds: float,
    clients: int,
    requests: list[bytes] | None = None,
    marks: tuple[bytes, bytes] = (TOKEN_MARK, DONE_MARK),
) -> dict:
    """Run one level of load (diagnostic streams unless other requests are given) and summarise it."""
    tokens = int(seconds * 1000 / INTERVAL_MS)
    requests = requests or [diagnostic_request(tokens)]
    ramp = min(2.0, seconds / 4)
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    shares = [streams // clients + (i < streams % clients) for i in range(clients)]
    cpu_before, wall_before = cpu_seconds(master_pid), time.monotonic()
    workers = [
        context.Process(target=load_process, args=(port, requests, n, ramp, marks, results)) for n in shares if n
    ]
    for worker in workers:
        worker.start()
    gaps: list[float] = []
    completed = 0
    client_cpu = 0.0
    for _ in workers:
        worker_gaps, worker_completed, worker_cpu = results.get()
        gaps.extend(worker_gaps)
        completed += worker_completed
        client_cpu += worker_cpu
    for worker in workers:
        worker.join()
    added = sorted(max(0.0, gap * 1000 - INTERVAL_MS) for gap in gaps) or [float("nan")]
    return {
        "streams": streams,
        "completed": completed,
        "p50": statistics.median(added),
        "p99": added[min(len(added) - 1, int(len(added) * 0.99))],
        "max": added[-1],
        "mean": statistics.fmean(gap * 1000 - INTERVAL_MS for gap in gaps) if gaps else float("nan"),
        "cpu": (cpu := cpu_seconds(master_pid) - cpu_before),
        "wall": time.monotonic() - wall_before,
        # CPU per token is what survives a busy machine best: 2 cores hold 2e6 / this many tokens per second.
        "cpu_us_per_token": cpu * 1e6 / max(1, len(gaps) + completed),
        "client_cpu": client_cpu,
    }


def main() -> None:
    """Compare the worker models at each level and print one table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="5 s streams instead of 20 s")
    parser.add_argument("--levels", default="100,500,1000", help="concurrent streams per step, comma separated")
    parser.add_argument("--models", default=",".join(WORKER_MODELS), help="worker models to compare")
    parser.add_argument("--clients", type=int, default=2, help="load-generating processes")
    args = parser.parse_args()
    seconds = 5.0 if args.quick else 20.0
    levels = [int(level) for level in args.levels.split(",")]
    rows = []
    for name in args.models.split(","):
        with tempfile.TemporaryDirectory(prefix="sb-bench-") as instance:
            server, port = start_server(WORKER_MODELS[name], instance)
            try:
                for streams in levels:
                    row = {"model": name, **measure(port, server.pid, streams, seconds, args.clients)}
                    print(f"  {name}: {streams} streams done", file=sys.stderr, flush=True)
                    rows.append(row)
            finally:
                server.terminate()
                server.wait(timeout=60)
    print_table(rows, seconds, "token")


def print_table(rows: list[dict], seconds: float, unit: str) -> None:
    """The results table (also bench/skill_streams.py's)."""
    print(
        f"\n{seconds:.0f} s streams, one {unit} every {INTERVAL_MS} ms; added delay = observed gap - {INTERVAL_MS} ms"
    )
    print(" ".join(f"{title:{align}{width}}" for title, _, width, (align, _) in COLUMNS))
    for row in rows:
        print(" ".join(f"{row[key]:{align}{width}{form}}" for _, key, width, (align, form) in COLUMNS))


if __name__ == "__main__":
    main()
