"""A running job's pulse: a thread touches `heartbeat_at` so a job whose worker died can be told from a slow one."""

from __future__ import annotations

import logging
import threading

from sqlalchemy import Engine, update

from backend.models import Job
from backend.models.columns import utcnow

log = logging.getLogger(__name__)


class Heartbeat:
    """`with Heartbeat(engine, job_id, every):` touches the job row every `every` seconds until the block ends."""

    def __init__(self, engine: Engine, job_id: str, every: float) -> None:
        """A heartbeat for one job on the app's engine (its own connections: callable beside the job's session)."""
        self.engine, self.job_id, self.every = engine, job_id, max(0.05, every)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"job-heartbeat-{job_id[:8]}", daemon=True)

    def __enter__(self) -> Heartbeat:
        """Start beating."""
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Stop beating (the job ended, one way or another)."""
        self._stop.set()
        self._thread.join(timeout=5)

    def _beat(self) -> None:
        """Touch the row until stopped; a failed touch is logged and retried at the next beat."""
        while not self._stop.wait(self.every):
            try:
                with self.engine.begin() as connection:
                    table = Job.__table__
                    connection.execute(
                        update(table)
                        .where(table.c.id == self.job_id, table.c.status == "running")
                        .values(heartbeat_at=utcnow())
                    )
            except Exception:  # noqa: BLE001 - a busy database must not kill the job; the next beat tries again
                log.warning("job heartbeat failed", extra={"job_id": self.job_id}, exc_info=True)
