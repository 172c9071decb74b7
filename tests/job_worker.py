"""A worker process for the job tests: `switchboard worker`, plus test-only broker options from the environment.

TEST_VISIBILITY_TIMEOUT sets Redis' visibility timeout (an hour by default), and its sweep to every second, so a
redelivery happens within a test.
"""

from __future__ import annotations

import os
import socket
import sys

from backend import create_app
from backend.tasks.broker import prepare_broker


def main(concurrency: int) -> None:
    """Build the app from SWITCHBOARD_* variables and run a prefork worker on JOB_QUEUE."""
    app = create_app()
    celery_app = app.extensions["celery"]
    if os.environ.get("TEST_VISIBILITY_TIMEOUT"):
        options = dict(celery_app.conf.broker_transport_options or {})
        options["visibility_timeout"] = float(os.environ["TEST_VISIBILITY_TIMEOUT"])
        # Look for expired messages every second (by default every 10 x 10 s).
        options.update(unacked_restore_interval=1, unacked_restore_throttle=1)
        celery_app.conf.broker_transport_options = options
    prepare_broker(celery_app)
    queue = app.config["JOB_QUEUE"]
    worker = celery_app.Worker(
        hostname=f"test-{os.getpid()}@{socket.gethostname()}",
        pool_cls="prefork",
        concurrency=concurrency,
        loglevel="INFO",
        queues=[queue] if queue else None,
    )
    worker.start()
    sys.exit(worker.exitcode)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
