"""What the `switchboard` commands warn about, run as an operator runs them (real processes): a setting that makes
the server refuse tokens is told by the server, not by every command that reads no token."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fakes.common import free_port
from tests.test_serving import http_get, wait_until

REPOSITORY = Path(__file__).resolve().parents[1]
V2_REFUSED = "every v2 access token will be refused"


@pytest.fixture
def entra_without_client_id(tmp_path) -> dict[str, str]:
    """An operator's environment in entra mode with no SWITCHBOARD_ENTRA_CLIENT_ID, on an instance folder of its own."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("SWITCHBOARD_")}
    return {**env, "SWITCHBOARD_INSTANCE_PATH": str(tmp_path / "instance"), "SWITCHBOARD_AUTH_MODE": "entra"}


def switchboard(env: dict[str, str], *argv: str) -> subprocess.CompletedProcess:
    """Run one `switchboard` command to its end."""
    command = [sys.executable, "-m", "backend.cli", *argv]
    return subprocess.run(command, env=env, cwd=REPOSITORY, capture_output=True, text=True, timeout=120)


def test_commands_that_read_no_token_do_not_warn_that_tokens_are_refused(entra_without_client_id):
    for argv in (["db", "upgrade"], ["tenants", "list"], ["skills", "list"], ["db", "current"]):
        result = switchboard(entra_without_client_id, *argv)
        assert result.returncode == 0, result.stderr
        assert V2_REFUSED not in result.stderr + result.stdout, argv


@pytest.mark.slow
def test_the_server_warns_that_tokens_are_refused(entra_without_client_id, tmp_path):
    """`switchboard run`: its workers, which validate the tokens, log it as they start."""
    env = {**entra_without_client_id, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    port = free_port()
    command = [sys.executable, "-m", "backend.cli", "run", "--port", str(port), "--workers", "1"]
    log = tmp_path / "server.log"
    with log.open("wb") as stderr:
        server = subprocess.Popen(command, env=env, cwd=REPOSITORY, stdout=subprocess.DEVNULL, stderr=stderr)
    try:

        def answers() -> bool:
            """Whether the server's worker serves requests (it built the app, and logged, before that)."""
            try:
                return http_get(f"http://127.0.0.1:{port}/api/openapi.json")[0] == 200
            except OSError:
                assert server.poll() is None, log.read_text()
                return False

        wait_until(answers, 120, "the server did not start")
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    assert log.read_text().count(V2_REFUSED) == 1
