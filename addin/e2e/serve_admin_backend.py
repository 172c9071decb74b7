"""A real backend for the admin console's end-to-end tests: dev auth, two platform models, one key-checking GPU server.

Run from the repository root: `.venv/bin/python addin/e2e/serve_admin_backend.py`. It prints `BACKEND_URL=...` and
`GPU_URL=...` (an OpenAI-compatible fake that only answers the key GPU_KEY, for the self-hosted endpoint the test
adds) once the server listens, and serves until stopped. No worker: the console's tests run skills synchronously.
`POST /e2e/rotate-secret-key` (this server only) acts out a restart on a new secret key that cannot read stored keys.
"""

from __future__ import annotations

import os
import secrets
import signal
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

sys.path.insert(0, str(Path(__file__).resolve().parent))

from serve_backend import free_port  # noqa: E402 - the e2e folder must be importable first

from tests.fakes.openai_server import FakeOpenAI  # noqa: E402 - the repository root must be importable first

GPU_KEY = "sk-e2e-gpu-7c41d09a2b8e4f55"  # the e2e script types this into the page and then looks for it everywhere
PROVIDERS_YAML = """providers:
  - name: budget
    type: openai
    base_url: {budget}
    api_key_env: SWITCHBOARD_E2E_ADMIN_KEY
    models:
      - {{id: budget-1, context_window: 32000, max_output_tokens: 2000, capabilities: [streaming],
          price_per_million: {{input: 0.5, output: 1.0}}, location: us-east, tier: 3}}
  - name: premium
    type: openai
    base_url: {premium}
    api_key_env: SWITCHBOARD_E2E_ADMIN_KEY
    models:
      - {{id: premium-1, context_window: 32000, max_output_tokens: 2000, capabilities: [streaming],
          price_per_million: {{input: 5.0, output: 15.0}}, location: eu-west, tier: 1}}
"""


def add_e2e_routes(app) -> None:
    """Routes of this test server only (never of the real app), for what the page cannot do itself."""

    @app.post("/e2e/rotate-secret-key")
    def rotate_secret_key():
        """The operator restarts on a new SWITCHBOARD_SECRET_KEY without the old one as a fallback: stored provider
        keys can no longer be decrypted, and the process's catalog caches and routing tables start over."""
        from backend.auth.ttlcache import forget_rows
        from backend.catalog.tenant import CACHE_KEY
        from backend.routing import router

        app.config.update(SECRET_KEY=secrets.token_urlsafe(48), SECRET_KEY_FALLBACKS=[])
        app.extensions.pop(CACHE_KEY, None)
        forget_rows()
        router._tables.clear()
        return "", 204


def main() -> None:
    """Start the three fakes and the web app; stop the fakes when stopped."""
    budget = FakeOpenAI(default_reply="Answer from the budget model.", api_key="platform-key").start()
    premium = FakeOpenAI(default_reply="Answer from the premium model.", api_key="platform-key").start()
    gpu = FakeOpenAI(default_reply="Answer from the tenant GPU.", api_key=GPU_KEY).start()
    instance = tempfile.mkdtemp(prefix="switchboard-admin-e2e-")
    providers = Path(instance) / "providers.yaml"
    providers.write_text(PROVIDERS_YAML.format(budget=budget.base_url, premium=premium.base_url))
    os.environ.update(
        {
            "SWITCHBOARD_E2E_ADMIN_KEY": "platform-key",
            "SWITCHBOARD_AUTH_MODE": "dev",
            "SWITCHBOARD_PROVIDERS_FILE": str(providers),
            "SWITCHBOARD_INSTANCE_PATH": instance,
            "SWITCHBOARD_ALLOWED_MODEL_HOSTS": "127.0.0.1",
        }
    )
    from backend import create_app
    from backend.database import Base
    from backend.extensions import db

    app = create_app()
    with app.app_context():
        Base.metadata.create_all(db.engine)
    add_e2e_routes(app)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    port = free_port()
    print(f"BACKEND_URL=http://127.0.0.1:{port}", flush=True)
    print(f"GPU_URL={gpu.base_url}", flush=True)
    try:
        app.run(host="127.0.0.1", port=port, threaded=True, use_reloader=False)
    finally:
        for fake in (budget, premium, gpu):
            fake.stop()


if __name__ == "__main__":
    main()
