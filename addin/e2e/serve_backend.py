"""A real backend for the add-in's end-to-end tests: dev auth, a fake OpenAI-compatible provider, a Celery worker.

Run from the repository root: `.venv/bin/python addin/e2e/serve_backend.py`. It prints `BACKEND_URL=http://...` once
the server listens and serves until it is stopped. SWITCHBOARD_DATABASE_URL may point at PostgreSQL; otherwise a
SQLite file in a temporary instance folder is used.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.fakes.common import Scripted  # noqa: E402 - the repository root must be importable first
from tests.fakes.faults import Fault  # noqa: E402
from tests.fakes.openai_server import FakeOpenAI  # noqa: E402

# Longer than the skills runtime's preamble window (200 characters), so it reaches the pane as several deltas.
SUMMARY = (
    "Revenue rose 12% in the third quarter on European demand and forty new enterprise customers. "
    "Costs grew 4%, mostly from hiring, so the margin improved. The team plans to open an office in "
    "Madrid and to hire two engineers next quarter. Risks: currency swings and a slower public sector."
)
# Asked for "a formatted brief": Markdown, with raw HTML that must never reach Word as markup (the backend's output
# filter may already drop it; the pane's renderer escapes whatever is left).
BRIEF = (
    "# Quarterly brief\n\n"
    "Revenue grew **12%** in the third quarter.\n\n"
    "- Open the *Madrid* office\n"
    "- Hire two engineers\n\n"
    'Note: <script>alert(1)</script> <img src=x onerror="alert(2)">'
)
FORMULA = json.dumps({"formula": "=SUM(A1:A3)", "explanation": "Adds the three selected cells."})
PROVIDERS_YAML = """providers:
  - name: fake
    type: openai
    base_url: {base_url}
    api_key_env: SWITCHBOARD_E2E_FAKE_KEY
    models:
      - id: fake-1
        context_window: 128000
        max_output_tokens: 4000
        capabilities: [streaming]
        price_per_million: {{input: 1.0, output: 2.0}}
        location: local
        tier: 2
"""


class SlowFakeOpenAI(FakeOpenAI):
    """Streams one token every 50 ms, so the pane visibly streams; formulas for write_formula, a summary otherwise."""

    def next_answer(self) -> Scripted:
        """Every answer is slow."""
        return Scripted(None, Fault.slow(0.05))

    def reply_for(self, scripted: Scripted, last_user_text: str) -> str:
        """A formula when asked for one, the Markdown brief when asked for that, else the summary."""
        if "formula" in last_user_text.lower():
            return FORMULA
        return BRIEF if "a formatted brief" in last_user_text else SUMMARY


def free_port() -> int:
    """A free loopback port (the server binds it right after)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def main() -> None:
    """Start the fake provider, the worker and the web app; stop the worker when stopped."""
    fake = SlowFakeOpenAI().start()
    instance = tempfile.mkdtemp(prefix="switchboard-e2e-")
    providers = Path(instance) / "providers.yaml"
    providers.write_text(PROVIDERS_YAML.format(base_url=fake.base_url))
    os.environ.update(
        {
            "SWITCHBOARD_E2E_FAKE_KEY": "fake-key",
            "SWITCHBOARD_AUTH_MODE": "dev",
            "SWITCHBOARD_PROVIDERS_FILE": str(providers),
            "SWITCHBOARD_INSTANCE_PATH": instance,
        }
    )
    from backend import create_app
    from backend.database import Base
    from backend.extensions import db

    app = create_app()
    with app.app_context():
        Base.metadata.create_all(db.engine)
    worker = subprocess.Popen([sys.executable, "-m", "backend.cli", "worker"], env=os.environ, cwd=ROOT)  # noqa: S603
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    port = free_port()
    print(f"BACKEND_URL=http://127.0.0.1:{port}", flush=True)
    try:
        app.run(host="127.0.0.1", port=port, threaded=True, use_reloader=False)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        fake.stop()


if __name__ == "__main__":
    main()
