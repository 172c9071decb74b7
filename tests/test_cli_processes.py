"""`switchboard up` and its supervisor: children start, a dead child stops the rest, a signal leaves nothing running."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
import redis
import requests
import yaml

from backend import create_app
from backend.cli.supervisor import ChildSpec, Supervisor
from backend.tasks.builtin import ping
from tests.fakes.common import free_port

SUPERVISE = """
import json, sys
from backend.cli.supervisor import ChildSpec, Supervisor
specs = [ChildSpec(name, argv) for name, argv in json.loads(sys.argv[1])]
sys.exit(Supervisor(specs, grace_seconds=float(sys.argv[2]), say=lambda line: print(line, flush=True)).run())
"""
# A shell leader with a background grandchild: stopping must reach the whole process group, not just the leader.
SLEEPER_WITH_GRANDCHILD = ["sh", "-c", "sleep 300 & sleep 300"]
IGNORES_SIGTERM = [
    sys.executable,
    "-c",
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ignoring-sigterm', flush=True); "
    "time.sleep(300)",
]


def live_processes_in_sessions(sessions: set[int]) -> list[int]:
    """Pids of processes (zombies excepted) whose session is one of `sessions`, read from /proc."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue  # exited while we looked
        state, _ppid, _pgrp, session = stat[stat.rindex(")") + 2 :].split()[:4]
        if int(session) in sessions and state != "Z":
            found.append(int(entry))
    return found


def wait_for(condition, timeout: float, what: str, interval: float = 0.2):
    """Poll `condition` until it returns something truthy; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout}s waiting for {what}")


def started_children(log: Path, count: int) -> dict[str, int]:
    """Names and pids of the children the supervisor reported starting, once all `count` are reported."""
    started = dict(re.findall(r"started (\S+) \(pid (\d+)\)", log.read_text(errors="replace")))
    return {name: int(pid) for name, pid in started.items()} if len(started) == count else {}


def supervise(specs: list[tuple[str, list[str]]], grace: float, log: Path) -> subprocess.Popen:
    """Run a Supervisor over `specs` in a process of its own, its output (and its children's) going to `log`."""
    with log.open("w") as output:
        return subprocess.Popen(
            [sys.executable, "-c", SUPERVISE, json.dumps(specs), str(grace)], stdout=output, stderr=subprocess.STDOUT
        )


def test_sigint_stops_every_child_and_grandchild(tmp_path):
    """Ctrl-C: exit status 0 and no process of any child's group left, grandchildren included."""
    log = tmp_path / "supervisor.log"
    supervisor = supervise([("a", SLEEPER_WITH_GRANDCHILD), ("b", SLEEPER_WITH_GRANDCHILD)], 5, log)
    sessions = set(wait_for(lambda: started_children(log, 2), 30, "both children").values())
    wait_for(lambda: len(live_processes_in_sessions(sessions)) >= 4, 30, "children and grandchildren")
    supervisor.send_signal(signal.SIGINT)
    assert supervisor.wait(timeout=30) == 0
    assert live_processes_in_sessions(sessions) == []


def test_a_child_that_ignores_sigterm_is_killed_after_the_grace_period(tmp_path):
    """SIGTERM is asked politely; after the grace period SIGKILL ends the child anyway."""
    log = tmp_path / "supervisor.log"
    supervisor = supervise([("deaf", IGNORES_SIGTERM)], 1, log)
    sessions = set(wait_for(lambda: started_children(log, 1), 30, "the child").values())
    wait_for(lambda: "ignoring-sigterm" in log.read_text(), 30, "the child to ignore SIGTERM")
    started = time.monotonic()
    supervisor.send_signal(signal.SIGTERM)
    assert supervisor.wait(timeout=30) == 0
    assert time.monotonic() - started >= 1  # it did wait out the grace period first
    assert live_processes_in_sessions(sessions) == []


def test_a_dying_child_stops_the_others_and_fails(tmp_path):
    """When one child exits, the supervisor stops the rest and exits with that child's status."""
    log = tmp_path / "supervisor.log"
    supervisor = supervise([("long", SLEEPER_WITH_GRANDCHILD), ("short", ["sh", "-c", "sleep 2; exit 3"])], 5, log)
    sessions = set(wait_for(lambda: started_children(log, 2), 30, "both children").values())
    assert supervisor.wait(timeout=60) == 3
    assert "short exited with status 3" in log.read_text()
    assert live_processes_in_sessions(sessions) == []


def test_a_ready_child_runs_its_start_up_step_once_and_a_failing_one_is_only_announced():
    """The hook runs once, after the ready URL answers, off the supervising loop; a failing hook stops nothing."""
    ports = free_port(), free_port()
    calls, said = [], []

    def hook(name: str) -> str:
        calls.append(name)
        if name == "bad":
            raise RuntimeError("secret detail")
        return "priced"

    def serve(port: int) -> list[str]:
        return [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"]

    specs = [
        ChildSpec(name, serve(port), ready_url=f"http://127.0.0.1:{port}/", on_ready=lambda n=name: hook(n))
        for name, port in zip(("good", "bad"), ports, strict=True)
    ]
    supervisor = Supervisor(specs, grace_seconds=5, poll_seconds=0.05, say=said.append)

    def stop_once_both_hooks_ran() -> None:
        wait_for(lambda: "good: priced" in said and any(line.startswith("bad: ") for line in said), 30, "the hooks")
        time.sleep(0.5)  # a few more supervision rounds: neither hook may run again
        supervisor.stop_requested.set()

    stopper = threading.Thread(target=stop_once_both_hooks_ran)
    stopper.start()
    assert supervisor.run() == 0
    stopper.join()
    assert sorted(calls) == ["bad", "good"]
    assert "bad: its start-up step failed (RuntimeError)" in said
    assert not any("secret detail" in line for line in said)
    assert all(child.process.poll() is not None for child in supervisor.children)


def test_children_die_with_a_killed_supervisor(tmp_path):
    """Even SIGKILL of the supervisor leaves no child behind: Linux sends each child SIGTERM (PR_SET_PDEATHSIG)."""
    log = tmp_path / "supervisor.log"
    supervisor = supervise([("sleeper", [sys.executable, "-c", "import time; time.sleep(300)"])], 5, log)
    sessions = set(wait_for(lambda: started_children(log, 1), 30, "the child").values())
    supervisor.kill()
    supervisor.wait(timeout=30)
    wait_for(lambda: live_processes_in_sessions(sessions) == [], 30, "the orphaned child to exit")


def health(port: int) -> dict | None:
    """The health document, or None while the server does not answer."""
    try:
        return requests.get(f"http://127.0.0.1:{port}/api/health", timeout=5).json()
    except (requests.ConnectionError, requests.Timeout, ValueError):
        return None


@pytest.mark.parametrize(
    ("job_queue", "argv", "consumed"),
    [
        (None, [], ["celery"]),
        ("sb-jobs", [], ["celery", "sb-jobs"]),
        ("sb-jobs", ["-Q", "only-this"], ["only-this"]),
    ],
)
def test_a_worker_without_queues_also_consumes_job_queue(app_config, monkeypatch, job_queue, argv, consumed):
    """With JOB_QUEUE set, `switchboard worker` (and so `switchboard up`) must consume it, or jobs never run."""
    from click.testing import CliRunner

    from backend.cli import main

    app = create_app({**app_config, "JOB_QUEUE": job_queue})
    started: list[dict] = []

    class RecordingWorker:
        exitcode = 0

        def __init__(self, **options) -> None:
            started.append(options)

        def start(self) -> None:
            pass

    app.extensions["celery"].Worker = RecordingWorker
    monkeypatch.setattr("backend.cli.context.cli_app", lambda: app)
    result = CliRunner().invoke(main, ["worker", *argv])
    assert result.exit_code == 0, result.output
    assert [options["queues"] for options in started] == [consumed]


@pytest.mark.slow
@pytest.mark.redis
@pytest.mark.timeout(120)
def test_switchboard_worker_consumes_the_queues_it_is_given(tmp_path):
    """`switchboard worker --queues Q` in a process of its own runs tasks sent to Q on Redis, then stops on SIGTERM."""
    queue = f"sb-test-{uuid.uuid4().hex[:12]}"
    config = {"INSTANCE_PATH": str(tmp_path / "instance"), "BROKER_URL": "redis://127.0.0.1:6379/0"}
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_")}
    env.update({f"SWITCHBOARD_{key}": value for key, value in config.items()})
    log = tmp_path / "worker.log"
    with log.open("w") as output:
        worker = subprocess.Popen(
            [sys.executable, "-m", "backend.cli", "worker", "-c", "1", "--queues", queue],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        create_app(config)  # the producer side: the same broker and result store as the worker
        assert ping.apply_async(queue=queue, ignore_result=False).get(timeout=90) == "pong"
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=60) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
        client = redis.Redis.from_url(config["BROKER_URL"])
        client.delete(queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")
        client.close()
    assert f"switchboard-{worker.pid}@" in log.read_text()  # a node name of its own, unlike any other worker's


@pytest.mark.slow
@pytest.mark.timeout(420)
def test_switchboard_up_serves_runs_tasks_and_stops_cleanly(tmp_path):
    """The all-in-one: migrates, serves /api/health and the bundled model, its worker runs a task sent from elsewhere;
    Ctrl-C ends it all."""
    instance = tmp_path / "instance"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_")}
    env["SWITCHBOARD_INSTANCE_PATH"] = str(instance)
    port = free_port()
    log = tmp_path / "up.log"
    with log.open("w") as output:
        up = subprocess.Popen(
            [sys.executable, "-m", "backend.cli", "up", "--port", str(port)],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        children = wait_for(lambda: started_children(log, 3), 180, "switchboard up to start its children")
        # No providers file: the bundled demo model is served and named as the platform's only provider.
        assert set(children) == {"local-model", "web", "worker"}
        providers = yaml.safe_load((instance / "providers.embedded.yaml").read_text())["providers"]
        assert [(p["name"], p["type"]) for p in providers] == [("local", "selfhosted")]
        wait_for(lambda: "local-model ready" in log.read_text() or None, 120, "the bundled model to answer")
        # The broker's check gives up after 2 s: on a loaded machine the embedded broker, busy with the worker's
        # start, may answer `timeout` once; a product that works answers ok soon after.
        document, deadline = None, time.monotonic() + 120
        while time.monotonic() < deadline and not (document and document["status"] == "ok"):
            time.sleep(0.5)
            document = health(port)
        assert document is not None and document["status"] == "ok", document
        assert document["checks"]["broker"] == "ok"
        assert document["checks"]["providers"] == {"local/gemma-3-270m": "closed"}
        assert f"Switchboard: http://127.0.0.1:{port}/" in log.read_text()
        # Another process (this test) enqueues on the same embedded SQLite broker; up's worker consumes it.
        app = create_app({"INSTANCE_PATH": str(instance)})
        assert app.extensions["celery"].conf.broker_url.startswith(f"sqla+sqlite:///{instance}")
        assert ping.apply_async(ignore_result=False).get(timeout=60) == "pong"
        up.send_signal(signal.SIGINT)
        assert up.wait(timeout=90) == 0, log.read_text()[-3000:]
    finally:
        if up.poll() is None:
            up.kill()
            up.wait(timeout=30)  # reaped: a failure here must not also fail the next test with a ResourceWarning
    assert live_processes_in_sessions(set(children.values())) == []
    assert health(port) is None
