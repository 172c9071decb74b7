"""A 300-page document through summarize_document, against a fake model of fixed latency, compared in one run with
the ideal (each phase: ceil(steps / concurrency) x latency, map then each reduce level) and with a sequential run.

The job runs through the code a worker runs (backend.jobs.execute.execute_job with the real step callers: routing,
budgets, metering, a real OpenAI provider over loopback HTTP); Celery's own delivery (milliseconds) is left out.
Target: the concurrent run within 1.3x of the ideal.

    .venv/bin/python bench/jobs.py                         # 300 pages, 0.5 s per call, concurrency 8
    .venv/bin/python bench/jobs.py --pages 50 --latency 0.2 --concurrency 4
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # `tests.fakes` and `tests.jobs_support`

from sqlalchemy import select  # noqa: E402

from backend import create_app  # noqa: E402
from backend.admin.settings import DEFAULT_POLICY  # noqa: E402
from backend.database import Base  # noqa: E402
from backend.extensions import db  # noqa: E402
from backend.jobs.execute import execute_job  # noqa: E402
from backend.jobs.model_calls import job_step_callers  # noqa: E402
from backend.jobs.store import create_job  # noqa: E402
from backend.models import Job, JobStep, Tenant, TenantSettings, User  # noqa: E402
from backend.tenancy import tenant_scope  # noqa: E402
from tests.fakes.harness import TEST_KEY  # noqa: E402
from tests.jobs_support import MarkerModel, document, providers_file  # noqa: E402

WORDS_PER_PAGE = 500
WORDS_PER_PARAGRAPH = 50


def run_job(app, text: str, concurrency: int) -> tuple[float, dict[str, int]]:
    """Wall time of one summarize_document job and its step counts per phase (map, reduce:1, reduce:2, ...)."""
    app.config["JOB_CONCURRENCY"] = concurrency
    with app.app_context():
        job, _ = create_job("t1", "u1", "summarize_document", {"document": text}, {}, None)
        started = time.perf_counter()
        with tenant_scope("t1"):
            status = execute_job(job.id, job_step_callers)
        elapsed = time.perf_counter() - started
        db.session.expire_all()
        assert status == "succeeded", (status, db.session.get(Job, job.id).error)
        phases: dict[str, int] = {}
        for key in db.session.scalars(select(JobStep.key).where(JobStep.job_id == job.id)):
            phase = key.rsplit(":", 1)[0]
            phases[phase] = phases.get(phase, 0) + 1
    return elapsed, phases


def ideal_seconds(phases: dict[str, int], concurrency: int, latency: float) -> float:
    """Each phase waits for the one before: ceil(steps / concurrency) rounds of one call's latency."""
    return sum(math.ceil(count / concurrency) * latency for count in phases.values())


def main() -> None:
    """Build the app and the fake, warm up, run concurrent then sequential, print the comparison."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=300)
    parser.add_argument("--latency", type=float, default=0.5, help="seconds the fake model takes per call")
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    os.environ["TEST_FAKE_KEY"] = TEST_KEY
    folder = Path(tempfile.mkdtemp(prefix="bench-jobs-"))
    paragraphs = args.pages * WORDS_PER_PAGE // WORDS_PER_PARAGRAPH
    text = document(paragraphs, words=WORDS_PER_PARAGRAPH)
    with MarkerModel(latency=args.latency) as model:
        config = {
            "TESTING": True,
            "INSTANCE_PATH": str(folder / "instance"),
            "DATABASE_URL": f"sqlite:///{folder / 'bench.sqlite'}",
            "SECRET_KEY": "bench-secret-key-with-enough-entropy-0123456789",
            "PROVIDERS_FILE": str(providers_file(folder / "providers.yaml", model)),
            "LOG_LEVEL": "WARNING",
        }
        app = create_app(config)
        with app.app_context():
            Base.metadata.create_all(db.engine)
            db.session.add(Tenant(id="t1", name="Bench"))
            db.session.flush()
            db.session.add(User(id="u1", tenant_id="t1", object_id="o1"))
            # Rate limits would pace the job (it waits them out): lift them, this measures the fan-out.
            limits = {"user_requests_per_minute": 100_000, "tenant_requests_per_minute": 100_000}
            db.session.add(TenantSettings(tenant_id="t1", **{**DEFAULT_POLICY, "rate_limits": limits}))
            db.session.commit()
        model.latency = 0.0
        run_job(app, document(20), 2)  # warm up: tokenizer, SK connectors, HTTP pool (seconds, once per process)
        model.latency = args.latency
        concurrent, phases = run_job(app, text, args.concurrency)
        sequential, _ = run_job(app, text, 1)
    ideal = ideal_seconds(phases, args.concurrency, args.latency)
    ideal_sequential = ideal_seconds(phases, 1, args.latency)
    steps = sum(phases.values())
    print(f"document: {args.pages} pages, {len(text):,} characters, {paragraphs} paragraphs")
    print(f"steps: {phases} ({steps} model calls), fake latency {args.latency:.2f} s, concurrency {args.concurrency}")
    print(f"ideal (concurrent):   {ideal:7.2f} s")
    print(f"concurrent run:       {concurrent:7.2f} s  = {concurrent / ideal:.2f}x ideal (target <= 1.30x)")
    print(f"ideal (sequential):   {ideal_sequential:7.2f} s")
    print(f"sequential run:       {sequential:7.2f} s  = {sequential / ideal_sequential:.2f}x its ideal")
    print(f"speed-up over sequential: {sequential / concurrent:.1f}x")


if __name__ == "__main__":
    main()
