"""Jobs by state for /metrics, counted in the database when Prometheus scrapes: workers serve no /metrics of their own,
and the database is where every worker's jobs meet.

`switchboard_jobs{state, skill}` comes from one aggregate query over every tenant's jobs (counts only: no tenant,
user or content leaves the database), answered from the (status, skill_id) index. The scrape never waits for it
longer than COUNT_DEADLINE_SECONDS: a database that is down or silent leaves the gauge out of that scrape and counts
the failure in `switchboard_job_count_failures_total{reason}` (error or timeout); the rest of /metrics is unaffected.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator

from flask import Flask, current_app
from prometheus_client import Counter
from prometheus_client.core import GaugeMetricFamily, Metric
from sqlalchemy import func, select, text

from backend.deadlines import run_within_deadline
from backend.extensions import db
from backend.jobs.plans import PLANS
from backend.models import Job
from backend.models.jobs import JOB_STATUSES

log = logging.getLogger(__name__)

# Prometheus' default scrape timeout is 10 s; the count must leave the scrape time to answer.
COUNT_DEADLINE_SECONDS = 2.0
JOB_COUNT_FAILURES = Counter(
    "switchboard_job_count_failures", "Scrapes that left out switchboard_jobs: its query failed or was late", ["reason"]
)
# One count at a time per process: while a database hangs, scrapes do not pile up threads (and connections) behind it.
_counting = threading.Lock()


class JobCounts:
    """A scrape-time collector of `switchboard_jobs`, for metrics.render."""

    def __init__(self, app: Flask | None = None) -> None:
        self.app = app or current_app._get_current_object()

    def describe(self) -> list[Metric]:
        """Nothing to describe ahead: registering must not run the query."""
        return []

    def collect(self) -> Iterator[Metric]:
        """The gauge, or nothing when the database did not answer within the deadline."""
        counts = count_within_deadline(self.app, COUNT_DEADLINE_SECONDS)
        if counts is None:
            return
        gauge = GaugeMetricFamily(
            "switchboard_jobs", "Jobs in the database by state and skill, every tenant's", labels=["state", "skill"]
        )
        for (state, skill), count in sorted(counts.items()):
            gauge.add_metric([state, skill], count)
        yield gauge


def job_skills() -> list[str]:
    """The skill ids a job can have: the long-running skills' plans (a fixed, small set); any other is "other"."""
    return sorted(PLANS)


def count_jobs() -> dict[tuple[str, str], int]:
    """Jobs by (state, skill) over every tenant, every known pair present (0 when none)."""
    skills = job_skills()
    counts = {(state, skill): 0 for state in JOB_STATUSES for skill in skills}
    query = select(Job.status, Job.skill_id, func.count()).group_by(Job.status, Job.skill_id)
    # Core on the engine, not the ORM session: no tenant scope applies, and the request's session is left alone.
    with db.engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            # The server gives up too, so a slow count never keeps running (and holding a connection) after the scrape.
            timeout = str(int(COUNT_DEADLINE_SECONDS * 1000))
            connection.execute(text("SELECT set_config('statement_timeout', :ms, true)"), {"ms": timeout})
        for status, skill_id, count in connection.execute(query):
            key = (status if status in JOB_STATUSES else "other", skill_id if skill_id in skills else "other")
            counts[key] = counts.get(key, 0) + count
    return counts


def count_within_deadline(app: Flask, seconds: float) -> dict[tuple[str, str], int] | None:
    """`count_jobs` on a thread of its own (backend.deadlines), or None (counted as a failure) if it fails or is not
    done in time. A late count's thread is left to end on its own (the statement timeout, the connect timeout and the
    keepalives of backend.database bound it); waiting for it is what would hang the scrape.
    """
    if not _counting.acquire(blocking=False):
        JOB_COUNT_FAILURES.labels("timeout").inc()  # the previous scrape's count is still waiting on the database
        log.warning("metrics: jobs not counted, the previous count is still running")
        return None

    def counted() -> object:
        """The counts, or "error" (logged); the lock is free again once the count ended, in time or late."""
        try:
            return count_jobs()
        except Exception:  # noqa: BLE001 - any failure leaves the gauge out; the log has the detail
            log.warning("metrics: jobs could not be counted", exc_info=True)
            return "error"
        finally:
            _counting.release()

    result = run_within_deadline({"job-counts": counted}, seconds, late="timeout", app=app)["job-counts"]
    if isinstance(result, dict):
        return result
    JOB_COUNT_FAILURES.labels(result).inc()
    return None
