"""A small process supervisor for `switchboard up`: start child processes, stop them all together."""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field

PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


@dataclass(frozen=True)
class ChildSpec:
    """One child process: a name for messages, its command line, extra environment, an optional ready URL, and
    what to do once it is ready."""

    name: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    ready_url: str | None = None  # announced once an HTTP GET gets any answer from it
    # Run once on a thread of its own when the child is ready; returns a line to announce. A failure is announced
    # and changes nothing else: the children keep running.
    on_ready: Callable[[], str] | None = None


@dataclass
class Child:
    """A started child and what the supervisor knows about it."""

    spec: ChildSpec
    process: subprocess.Popen
    ready: bool = False


class Supervisor:
    """Runs children in their own process groups; when one dies or a stop is asked for, stops every group."""

    def __init__(
        self,
        specs: list[ChildSpec],
        grace_seconds: float = 25.0,
        poll_seconds: float = 0.2,
        say: Callable[[str], None] = print,
    ) -> None:
        """Remember the children to run; nothing starts until `run`."""
        self.specs = specs
        self.grace_seconds = grace_seconds
        self.poll_seconds = poll_seconds
        self.say = say
        self.children: list[Child] = []
        self.stop_requested = threading.Event()
        self.kill_now = threading.Event()

    def run(self) -> int:
        """Start every child and supervise until a signal or a child's exit; 0 after a requested stop."""
        previous = {sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            for spec in self.specs:
                self.children.append(Child(spec, start_child(spec)))
                self.say(f"started {spec.name} (pid {self.children[-1].process.pid})")
            return self._watch()
        finally:
            self.stop()
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _on_signal(self, signum: int, _frame: object) -> None:
        """First Ctrl-C or SIGTERM: stop gracefully. A second one while stopping: kill at once."""
        if self.stop_requested.is_set():
            self.kill_now.set()
        self.stop_requested.set()

    def _watch(self) -> int:
        """Wait for a stop request or for any child to exit; announce children as they become ready."""
        while not self.stop_requested.wait(self.poll_seconds):
            for child in self.children:
                code = child.process.poll()
                if code is not None:
                    self.say(f"{child.spec.name} exited with status {code}; stopping the others")
                    return code or 1
                if not child.ready and child.spec.ready_url and answers_http(child.spec.ready_url):
                    child.ready = True
                    self.say(f"{child.spec.name} ready: {child.spec.ready_url}")
                    if child.spec.on_ready is not None:
                        threading.Thread(target=self._when_ready, args=(child.spec,), daemon=True).start()
        self.say("stopping")
        return 0

    def _when_ready(self, spec: ChildSpec) -> None:
        """Run a ready child's hook and announce what it did, or that it failed (its kind only: no details)."""
        try:
            self.say(f"{spec.name}: {spec.on_ready()}")
        except Exception as exc:  # noqa: BLE001 - announced, never fatal to the supervisor
            self.say(f"{spec.name}: its start-up step failed ({type(exc).__name__})")

    def stop(self) -> None:
        """SIGTERM every child, wait up to the grace period, then SIGKILL whatever is left of each process group."""
        for child in self.children:
            # Only the leader: gunicorn's and Celery's masters stop their own workers gracefully (a SIGTERM sent
            # straight to a Celery pool process kills the task it is running).
            if child.process.poll() is None:
                child.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self.grace_seconds
        while time.monotonic() < deadline and not self.kill_now.is_set():
            if all(child.process.poll() is not None for child in self.children):
                break
            time.sleep(self.poll_seconds)
        for child in self.children:
            # Also reaches grandchildren left behind by a leader that already exited (they keep its group id).
            signal_group(child.process.pid, signal.SIGKILL)
            child.process.wait()


def start_child(spec: ChildSpec) -> subprocess.Popen:
    """Start a child as the leader of a new session, so that its whole process tree can be signalled at once."""
    return subprocess.Popen(
        spec.argv,
        env={**os.environ, **spec.env},
        start_new_session=True,
        # preexec_fn is unsafe only with other threads running; the supervisor starts none.
        preexec_fn=die_with_parent if sys.platform == "linux" else None,
    )


def die_with_parent() -> None:
    """In the child before exec: have Linux send SIGTERM if the supervisor itself is killed (e.g. SIGKILL)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def signal_group(pgid: int, sig: signal.Signals) -> None:
    """Send a signal to a process group; a group with no processes left is already stopped."""
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        pass


def answers_http(url: str, timeout: float = 0.5) -> bool:
    """True when the URL answers HTTP at all (any status): the server is up and accepting requests."""
    try:
        with urllib.request.urlopen(url, timeout=timeout):  # noqa: S310 - a loopback URL built by `up`
            return True
    except urllib.error.HTTPError:
        return True
    except (OSError, ValueError):
        return False
