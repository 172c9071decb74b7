"""What the job tests share: a fake model with fixed latency that answers with the paragraph markers it was sent,
a providers file pointing at it, generated documents, and real worker processes (started, killed, stopped)."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.auth_fixtures import entra_app_config
from tests.fakes import FakeOpenAI, Fault
from tests.fakes.common import Scripted, free_port
from tests.fakes.harness import TEST_KEY

MARKER = re.compile(r"P\d{5}")
ROOT = Path(__file__).resolve().parent.parent


class MarkerModel(FakeOpenAI):
    """Answers every chat with the paragraph markers (P00001...) found in its last user message, after `latency` s.

    A map call therefore returns its chunk's markers and a reduce call the markers of the summaries it combines:
    the final summary holds every marker exactly once only if no chunk was lost or repeated.
    """

    def __init__(self, latency: float = 0.0) -> None:
        """A fake that waits `latency` seconds before answering each request."""
        super().__init__(api_key=TEST_KEY)
        self.latency = latency

    def next_answer(self) -> Scripted:
        """Scripted answers first, then the fixed latency."""
        scripted = super().next_answer()
        if scripted.fault is None and scripted.reply is None and self.latency:
            return Scripted(fault=Fault.stall(self.latency))
        return scripted

    def reply_for(self, scripted: Scripted, last_user_text: str) -> str:
        """The markers of the text, space separated."""
        if scripted.reply is not None:
            return scripted.reply
        return " ".join(MARKER.findall(last_user_text)) or "nothing"

    def chat_requests(self) -> list:
        """Chat completion requests received so far."""
        return [r for r in self.requests if r.path.endswith("/chat/completions")]


def providers_file(path: Path, model: FakeOpenAI) -> Path:
    """A providers file whose one model is the fake (the key comes from TEST_FAKE_KEY)."""
    path.write_text(
        textwrap.dedent(
            f"""
            providers:
              - name: fake
                type: openai
                base_url: {model.base_url}
                api_key_env: TEST_FAKE_KEY
                timeouts: {{connect: 2, first_token: 30, total: 60}}
                models:
                  - {{id: gpt-test, context_window: 128000, max_output_tokens: 4096, location: us-east, tier: 3,
                      capabilities: [streaming, json_schema], price_per_million: {{input: 1, output: 2}}}}
            """
        )
    )
    return path


def document(paragraphs: int, words: int = 40) -> str:
    """A generated document: numbered sections of paragraphs, each starting with its marker."""
    lines = []
    for number in range(1, paragraphs + 1):
        if number % 10 == 1:
            lines.append(f"{number // 10 + 1}. Section about topic {number // 10 + 1}")
        filler = " ".join(f"word{(number * 7 + i) % 97}" for i in range(words - 1))
        lines.append(f"P{number:05d} {filler}.")
    return "\n".join(lines)


def markers(paragraphs: int) -> list[str]:
    """Every marker of `document(paragraphs)`, in order."""
    return [f"P{n:05d}" for n in range(1, paragraphs + 1)]


def worker_env(config: dict, extra: dict | None = None) -> dict[str, str]:
    """The environment of a worker process built from a test app's configuration, plus `extra` variables as given."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_")}
    env["TEST_FAKE_KEY"] = TEST_KEY
    for key in ("INSTANCE_PATH", "DATABASE_URL", "BROKER_URL", "RESULT_BACKEND", "SECRET_KEY", "PROVIDERS_FILE"):
        if config.get(key):
            env[f"SWITCHBOARD_{key}"] = str(config[key])
    for key, value in config.items():
        if key.startswith(("JOB_", "CELERY_", "CIRCUIT_", "BUDGET_")) and value is not None:
            env[f"SWITCHBOARD_{key}"] = str(value)
    env.update({key: str(value) for key, value in (extra or {}).items()})
    return env


class WorkerProcess:
    """A real worker (`python -m tests.job_worker`) in a session of its own, so SIGKILL takes its whole tree."""

    def __init__(self, env: dict[str, str], log_path: Path, concurrency: int = 1) -> None:
        """Start it; its output goes to log_path."""
        self.log_path = log_path
        self._log = open(log_path, "ab")  # noqa: SIM115 - closed in stop()/kill()
        argv = [sys.executable, "-m", "tests.job_worker", str(concurrency)]
        self.process = subprocess.Popen(
            argv, env=env, cwd=ROOT, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def kill(self) -> None:
        """SIGKILL the worker and its pool children at once (a crashed machine or container)."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)
        self._log.close()

    def stop(self) -> None:
        """Warm shutdown (SIGTERM), then SIGKILL if it lingers."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        self._log.close()

    def output(self) -> str:
        """What the worker logged."""
        return self.log_path.read_text(errors="replace")


def wait_for(predicate, timeout: float, interval: float = 0.1, what: str = "condition"):
    """Poll predicate until it returns something truthy; fail after timeout seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


# The job API tests' app: import `model` and `app_config` into a test module to use them.


@pytest.fixture
def model():
    """The fake model, answering at once."""
    with MarkerModel() as server:
        yield server


@pytest.fixture
def app_config(app_config, entra, tmp_path, model, monkeypatch) -> dict:
    """An Entra-configured app on a broker file of its own, the fake model in its providers file."""
    monkeypatch.setenv("TEST_FAKE_KEY", "sk-test-secret-0123456789")
    return {
        **entra_app_config(app_config, entra),
        "BROKER_URL": f"sqla+sqlite:///{tmp_path / 'broker.sqlite'}",
        "PROVIDERS_FILE": str(providers_file(tmp_path / "providers.yaml", model)),
        "JOB_CHUNK_TOKENS": 200,
        "JOB_SWEEP_SECONDS": 0,
        "JOB_MAX_INPUT_BYTES": 3 * 1024 * 1024,
        "JOB_EVENTS_POLL_SECONDS": 0.05,
        "CELERY_POLL_INTERVAL": 0.05,
    }


def post_summary_job(client, token, paragraphs=12, **fields):
    """POST /api/jobs for a summary of a generated document."""
    body = {"skill": "summarize_document", "input": {"document": document(paragraphs)}, **fields}
    return client.post("/api/jobs", json=body, headers={"Authorization": f"Bearer {token}"})
