"""Running blocking checks against a deadline, for answers that must not wait on a hung dependency (the health
probe, the jobs gauge of /metrics)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from flask import Flask, current_app

log = logging.getLogger(__name__)


def run_within_deadline(
    checks: dict[str, Callable[[], object]], seconds: float, late: object, app: Flask | None = None
) -> dict[str, object]:
    """Run checks side by side, each on a daemon thread inside the app (named `switchboard-<name>`); one not done by
    the deadline gets `late`.

    A late check's thread is left to finish on its own (the engine's connect timeout and Redis' socket timeout end
    it): waiting for it is what would hang the caller.
    """
    app = app or current_app._get_current_object()
    results: dict[str, object] = {}

    def run(name: str, check: Callable[[], object]) -> None:
        with app.app_context():
            results[name] = check()

    threads = {
        name: threading.Thread(target=run, args=(name, check), name=f"switchboard-{name}", daemon=True)
        for name, check in checks.items()
    }
    for thread in threads.values():
        thread.start()
    deadline = time.monotonic() + seconds
    for name, thread in threads.items():
        thread.join(max(0.0, deadline - time.monotonic()))
        if name not in results:
            log.warning("the %s check did not answer within %.0f s", name, seconds)
    return {name: results.get(name, late) for name in checks}
