"""A real Switchboard under gunicorn for tests of cross-cutting behaviour: loopback Entra, SQLite, JSON logs to a file.

`LiveServer.start(...)` migrates a fresh SQLite database with `switchboard db upgrade`, onboards a tenant with
`switchboard tenants add`, then serves with `switchboard run` (or with the same gunicorn command line and another app
spec, for a test app). Tests talk real HTTP to it and read its log file.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from flask import Blueprint, Flask

from tests.fakes.common import free_port
from tests.fakes.entra import access_token_claims, sign_token

SWITCHBOARD = str(Path(sys.executable).with_name("switchboard"))
REPOSITORY = Path(__file__).resolve().parents[1]
CLIENT_ID = "5e0f6a3c-1111-4222-8333-944455556666"
TENANT = "aaaaaaaa-0000-4000-8000-00000000000a"
SIGNING_KID = "signing-key-1"
# What the failing route's exceptions say: document text must never reach a log line through an exception message.
FAILURE_TEXT = "the quarterly figures of Project Nightingale"


@dataclass
class Reply:
    """What came back over HTTP: status, headers and the raw body."""

    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict:
        """The body parsed as JSON."""
        return json.loads(self.body)


def http(method: str, url: str, body: bytes | None = None, headers: dict[str, str] | None = None) -> Reply:
    """One HTTP request, error statuses included; the connection is always closed."""
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return Reply(response.status, dict(response.headers), response.read())
    except urllib.error.HTTPError as error:
        with error:
            return Reply(error.code, dict(error.headers), error.read())


def signed_token(entra_base: str, key, object_id: str, tenant_id: str = TENANT) -> str:
    """A valid v2 access token for our API from the loopback Entra (or signed by another key: invalid)."""
    claims = access_token_claims(tenant_id, object_id, CLIENT_ID, f"{entra_base}/{tenant_id}/v2.0")
    return sign_token(key, SIGNING_KID, claims)


@dataclass
class LiveServer:
    """A running gunicorn serving Switchboard; `log_path` collects its stderr (the JSON logs)."""

    process: subprocess.Popen
    base: str
    log_path: Path
    metrics_parent: Path
    env: dict[str, str] = field(repr=False)

    @classmethod
    def start(
        cls, tmp: Path, entra_base: str, app_spec: str | None = None, worker_class: str = "gthread", **settings: str
    ) -> LiveServer:
        """Migrate, onboard TENANT, start two workers and wait until the server answers."""
        env = {name: value for name, value in os.environ.items() if not name.startswith("SWITCHBOARD_")}
        env.update(
            {
                "SWITCHBOARD_INSTANCE_PATH": str(tmp / "instance"),
                "SWITCHBOARD_DATABASE_URL": f"sqlite:///{tmp / 'live.sqlite'}",
                "SWITCHBOARD_SECRET_KEY": "live-server-secret-key-0123456789-abcdefghij",
                "SWITCHBOARD_AUTH_MODE": "entra",
                "SWITCHBOARD_ENTRA_CLIENT_ID": CLIENT_ID,
                "SWITCHBOARD_ENTRA_APP_ID_URI": f"api://{CLIENT_ID}",
                "SWITCHBOARD_ENTRA_AUTHORITY": entra_base,
                "SWITCHBOARD_ENTRA_ALLOW_HTTP_AUTHORITY": "true",
                "PROMETHEUS_MULTIPROC_DIR": str(tmp),
                **{f"SWITCHBOARD_{name}": value for name, value in settings.items()},
            }
        )
        for command in (["db", "upgrade"], ["tenants", "add", TENANT, "--name", "Contoso"]):
            subprocess.run([SWITCHBOARD, *command], env=env, check=True, capture_output=True, timeout=120)
        from backend.cli.serve import gunicorn_argv

        port = free_port()
        argv = gunicorn_argv("127.0.0.1", port, 2, worker_class, None)
        if app_spec is None:
            argv = [SWITCHBOARD, "run", "--port", str(port), "--workers", "2", "--worker-class", worker_class]
        else:
            argv[-1] = app_spec  # the production gunicorn command line, serving a test app
        log_path = tmp / "server.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(argv, env=env, cwd=REPOSITORY, stdout=log, stderr=subprocess.STDOUT)
        server = cls(process, f"http://127.0.0.1:{port}", log_path, tmp, env)
        server.wait_until_up()
        return server

    def wait_until_up(self, seconds: float = 120) -> None:
        """Poll the OpenAPI document until it answers; fail with the log if the server died."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited:\n{self.log_path.read_text()}")
            try:
                if http("GET", f"{self.base}/api/openapi.json").status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"the server did not start:\n{self.log_path.read_text()}")

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None) -> Reply:
        """A request to this server."""
        return http(method, f"{self.base}{path}", body, headers)

    def log_size(self) -> int:
        """Where the log ends now: pass it to `log_lines` to read only what came after."""
        return self.log_path.stat().st_size

    def log_lines(self, since: int = 0) -> list[str]:
        """The log's complete lines from a byte offset on (the app logs after the response, so wait a little)."""
        time.sleep(0.3)
        text = self.log_path.read_bytes()[since:].decode()
        return [line for line in text.splitlines() if line.strip()]

    def stop(self) -> None:
        """Stop gracefully, killing only if it hangs."""
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=60)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()


def worker_pids(master_pid: int) -> list[int]:
    """The live child processes of a gunicorn master."""
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    return [int(pid) for pid in children]


class DeliberateFailure(RuntimeError):
    """The exception the test-only route raises."""


def add_failing_route(app: Flask) -> Flask:
    """Register a route that raises an unexpected exception (tests only, never in production code)."""
    blueprint = Blueprint("test_failure", __name__)

    @blueprint.get("/api/_test/explode")
    def explode():
        """Fail as a bug would, with document text in the messages of the error and of its cause."""
        try:
            {}[FAILURE_TEXT]
        except KeyError as missing:
            raise DeliberateFailure(f"could not summarize {FAILURE_TEXT}") from missing

    app.register_blueprint(blueprint)
    return app


def app_with_failing_route() -> Flask:
    """The production app plus the failing route: gunicorn's `tests.live_server:app_with_failing_route()`."""
    from backend import create_app

    return add_failing_route(create_app())
