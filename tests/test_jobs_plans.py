"""Each long-running skill's plan through execute_job (what the worker runs) against the fake model over HTTP:
outputs, resume from stored steps without new calls, retries with backoff, and a failure that keeps its steps."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from backend import create_app
from backend.database import Base
from backend.extensions import db
from backend.jobs.claim import BUSY
from backend.jobs.execute import execute_job
from backend.jobs.model_calls import job_step_callers
from backend.jobs.runner import JobContext
from backend.jobs.store import create_job
from backend.models import Job, JobStep, SkillRun
from backend.models.columns import utcnow
from backend.tenancy import tenant_scope
from tests.conftest import add_tenant_with_user
from tests.fakes import Fault
from tests.fakes.harness import TEST_KEY
from tests.jobs_support import MarkerModel, document, markers, providers_file


@pytest.fixture
def model():
    """The fake model, answering at once."""
    with MarkerModel() as server:
        yield server


@pytest.fixture
def app_config(app_config, tmp_path, model, monkeypatch) -> dict:
    """The fake model in the providers file, small chunks, quick retries."""
    monkeypatch.setenv("TEST_FAKE_KEY", TEST_KEY)
    return {
        **app_config,
        "PROVIDERS_FILE": str(providers_file(tmp_path / "providers.yaml", model)),
        "JOB_CHUNK_TOKENS": 200,
        "JOB_RETRY_BACKOFF_SECONDS": 0.05,
        "CIRCUIT_FAILURE_THRESHOLD": 100,
    }


def run(app, skill: str, data: dict) -> Job:
    """Create and execute a job in the worker's way (inside the tenant scope); the finished row."""
    with app.app_context():
        job, _ = create_job("t1", "u1", skill, data, {}, None)
        with tenant_scope("t1"):
            execute_job(job.id, job_step_callers)
        db.session.expire_all()
        return db.session.get(Job, job.id)


def step_count(app, job_id: str) -> int:
    """Stored steps of a job."""
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(JobStep).where(JobStep.job_id == job_id))


def test_summarize_document_maps_then_reduces(app, owner, model):
    """Every chunk summarized once, then combined; one metered run per step; usage adds up."""
    job = run(app, "summarize_document", {"document": document(40)})
    assert job.status == "succeeded", job.error
    assert job.output["summary"].split() == markers(40)
    steps = step_count(app, job.id)
    assert steps == len(model.chat_requests()) and steps >= 4
    assert job.usage["calls"] == steps and job.progress == 1.0
    assert job.usage["models"] == [{"provider": "fake", "model": "gpt-test", "location": "us-east", "calls": steps}]
    with app.app_context():
        runs = db.session.scalars(select(SkillRun).where(SkillRun.job_id == job.id)).all()
        assert {(r.provider, r.model, r.outcome) for r in runs} == {("fake", "gpt-test", "succeeded")}


def test_a_running_job_reports_its_usage_and_models_so_far(app, owner, model, monkeypatch):
    """After each stored step, while the job still runs, its document shows the usage of the calls made so far and
    the models that made them (the pane says which model is working and what it cost so far)."""
    from backend.jobs import store
    from backend.jobs.runner import JobContext

    app.config["JOB_CONCURRENCY"] = 1
    seen: list[dict] = []
    original = JobContext._store

    def recording(self, *args, **kwargs):
        """Store the step, then note the job as its owner would read it now."""
        original(self, *args, **kwargs)
        db.session.expire_all()
        seen.append(store.job_document(db.session.get(Job, self.job.id)))

    monkeypatch.setattr(JobContext, "_store", recording)
    job = run(app, "summarize_document", {"document": document(40)})
    assert job.status == "succeeded", job.error
    assert len(seen) == job.usage["calls"] >= 4 and {doc["status"] for doc in seen} == {"running"}
    assert [doc["usage"]["calls"] for doc in seen] == list(range(1, len(seen) + 1))
    fake = {"provider": "fake", "model": "gpt-test", "location": "us-east"}
    assert [doc["usage"]["models"] for doc in seen] == [[{**fake, "calls": n}] for n in range(1, len(seen) + 1)]
    costs = [doc["usage"]["cost_usd"] for doc in seen]
    assert 0 < costs[0] and costs == sorted(costs) and costs[-1] == job.usage["cost_usd"]
    assert seen[0]["usage"]["input_tokens"] > 0 and seen[-1]["usage"]["input_tokens"] == job.usage["input_tokens"]


def test_translate_document_returns_text_per_paragraph(app, owner, model):
    """Chunks whose answer lost the paragraph structure are redone paragraph by paragraph."""
    job = run(app, "translate_document", {"document": document(9), "target_language": "French"})
    assert job.status == "succeeded", job.error
    paragraphs = job.output["paragraphs"]
    assert [p["index"] for p in paragraphs] == list(range(len(paragraphs)))
    marked = [p["text"] for p in paragraphs if p["text"].startswith("P")]
    assert marked == markers(9)


def test_analyze_workbook_narrates_each_sheet_then_an_overview(app, owner, model):
    """Exact statistics per sheet from Python; one call per sheet plus one overview."""
    sheets = [
        {"name": f"S{n}", "range": {"address": f"S{n}!A1:B4", "values": [["x", "y"], [1, 2], [3, 4], [5, 6 + n]]}}
        for n in range(3)
    ]
    job = run(app, "analyze_workbook", {"sheets": sheets})
    assert job.status == "succeeded", job.error
    assert [s["name"] for s in job.output["sheets"]] == ["S0", "S1", "S2"]
    assert len(model.chat_requests()) == 4


@pytest.mark.parametrize(("date_system", "offset"), [({}, 0), ({"date_system": 1904}, 1462)])
def test_analyze_workbook_reads_date_formatted_cells_as_dates(app, owner, model, date_system, offset):
    """The pane sends the number formats of date cells (and 1904 for a workbook in that date system, where a serial
    is 1462 days later): the statistics and the model see dates, not serials."""
    values = [["day", "sales"], [45292 - offset, 10], [45323 - offset, 12], [45352 - offset, 9]]
    sheet = {"address": "S!A1:B4", "values": values, "number_formats": [[], ["yyyy-mm-dd"], ["yyyy-mm-dd"], ["d/m/yy"]]}
    sheet |= date_system
    job = run(app, "analyze_workbook", {"sheets": [{"name": "S", "range": sheet}]})
    assert job.status == "succeeded", job.error
    day = job.output["sheets"][0]["statistics"]["profiles"][0]
    assert day["type"] == "date" and day["dates"]["earliest"] == "2024-01-01" and day["dates"]["latest"] == "2024-03-01"
    narrative_prompt = json.dumps(model.chat_requests()[0].body)
    assert "2024-03-01" in narrative_prompt and str(45352 - offset) not in narrative_prompt


def test_a_transient_failure_is_retried_with_backoff(app, owner, model):
    """A 503 on one call: the step is tried again and the job succeeds; the failed try is metered as failed."""
    model.fail_next(1, Fault.server_error(503))
    job = run(app, "summarize_document", {"document": document(12)})
    assert job.status == "succeeded", job.error
    assert job.output["summary"].split() == markers(12)
    assert len(model.chat_requests()) == step_count(app, job.id) + 1


def test_a_step_that_keeps_failing_fails_the_job_and_keeps_what_finished(app, owner, model):
    """After the last try, the job fails with a clear error naming the step; finished steps stay stored, and a
    second delivery resumes from them."""
    app.config["JOB_CONCURRENCY"] = 1
    app.config["JOB_STEP_ATTEMPTS"] = 2
    model.script(times=2)  # two chunks answer...
    model.fail_next(2, Fault.http_status(500))  # ...then the third fails on both tries
    job = run(app, "summarize_document", {"document": document(40)})
    assert job.status == "failed"
    assert job.error["code"] == "all_models_failed" and job.error["step"] == "map:00002"
    assert step_count(app, job.id) == 2
    calls = len(model.chat_requests())
    with app.app_context():
        db.session.execute(Job.__table__.update().where(Job.id == job.id).values(status="queued"))
        db.session.commit()
        with tenant_scope("t1"):
            execute_job(job.id, job_step_callers)
        db.session.expire_all()
        resumed = db.session.get(Job, job.id)
    assert resumed.status == "succeeded" and resumed.output["summary"].split() == markers(40)
    assert len(model.chat_requests()) - calls == step_count(app, job.id) - 2, "stored steps were not called again"


def test_a_job_runs_and_resumes_on_postgresql(app_pg, model):
    """The claim, the step store and the usage sums on PostgreSQL; a second delivery of a finished job is a no-op."""
    with app_pg.app_context():
        add_tenant_with_user()
    job = run(app_pg, "summarize_document", {"document": document(20)})
    assert job.status == "succeeded", job.error
    assert job.output["summary"].split() == markers(20)
    assert job.usage["calls"] == step_count(app_pg, job.id) == len(model.chat_requests())
    with app_pg.app_context(), tenant_scope("t1"):
        assert execute_job(job.id, job_step_callers) is None
    assert len(model.chat_requests()) == job.usage["calls"]


class CountingModel(MarkerModel):
    """The marker model, answering after a pause and remembering the most requests it ever served at once."""

    def __init__(self) -> None:
        super().__init__(latency=0.2)
        self.in_flight = 0
        self.most_in_flight = 0
        self._count_lock = threading.Lock()

    def handle(self, handler, request) -> None:
        """Count this request as in flight while it is answered."""
        with self._count_lock:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            super().handle(handler, request)
        finally:
            with self._count_lock:
                self.in_flight -= 1


def test_fan_out_is_bounded_per_provider_across_jobs(tmp_path, app_config, monkeypatch):
    """Two jobs of 4 parallel steps each never put more than the provider's max_concurrency calls in flight."""
    with CountingModel() as model:
        path = providers_file(tmp_path / "bounded.yaml", model)
        path.write_text(
            path.read_text().replace("    api_key_env:", "    extra: {max_concurrency: 3}\n    api_key_env:")
        )
        app = create_app({**app_config, "PROVIDERS_FILE": str(path), "JOB_CONCURRENCY": 4})
        with app.app_context():
            Base.metadata.create_all(db.engine)
            add_tenant_with_user()
        jobs = [
            threading.Thread(target=run, args=(app, "summarize_document", {"document": document(30)})) for _ in range(2)
        ]
        for job in jobs:
            job.start()
        for job in jobs:
            job.join(timeout=120)
        assert len(model.chat_requests()) >= 8
        assert 2 <= model.most_in_flight <= 3


def test_progress_never_goes_back_and_reaches_one_only_at_success(app, owner, model, monkeypatch):
    """A job resumed after its worker died late (every step stored, the sweeper queued it again at 0.9) reports
    progress that never decreases, and 1.0 only once it succeeded (analyze_workbook's last step ends at 1.0)."""
    from backend.jobs.runner import JobContext

    written: list[float] = []
    for name in ("progress", "_store"):
        original = getattr(JobContext, name)

        def recording(self, *args, _original=original, **kwargs):
            """Call the original, then note the progress the row now shows."""
            _original(self, *args, **kwargs)
            written.append(db.session.scalar(select(Job.progress).where(Job.id == self.job.id)))

        monkeypatch.setattr(JobContext, name, recording)
    job = run(app, "summarize_document", {"document": document(40)})
    assert job.status == "succeeded" and written == sorted(written), written
    with app.app_context():
        db.session.execute(Job.__table__.update().where(Job.id == job.id).values(status="queued", progress=0.9))
        db.session.commit()
        written.clear()
        with tenant_scope("t1"):
            execute_job(job.id, job_step_callers)
    assert written and min(written) >= 0.9, written
    sheets = [{"name": "S", "range": {"address": "S!A1:B2", "values": [["x", "y"], [1, 2]]}}]
    written.clear()
    job = run(app, "analyze_workbook", {"sheets": sheets})
    assert job.status == "succeeded" and job.progress == 1.0
    assert written and max(written) < 1.0, written


def interrupted_job(app, model, attempts: int, heartbeat_age_seconds: float = 600) -> Job:
    """A summarize_document job left as its worker's death leaves it: two steps stored and metered, `running`, a
    heartbeat `heartbeat_age_seconds` old, started by `attempts` deliveries so far."""
    app.config["JOB_CONCURRENCY"] = 1
    app.config["JOB_STEP_ATTEMPTS"] = 1
    model.script(times=2)  # two chunks answer, then the third call fails: two steps stored
    model.fail_next(1, Fault.http_status(500))
    job = run(app, "summarize_document", {"document": document(40)})
    assert job.status == "failed" and step_count(app, job.id) == 2
    with app.app_context():
        heartbeat = utcnow() - timedelta(seconds=heartbeat_age_seconds)
        dead = dict(status="running", error=None, usage=None, heartbeat_at=heartbeat, attempts=attempts)
        db.session.execute(Job.__table__.update().where(Job.id == job.id).values(**dead))
        db.session.commit()
        return db.session.get(Job, job.id)


def deliver(app, job_id: str) -> tuple[str | None, Job]:
    """One more delivery of the job's message, as the worker runs it: what execute_job answered, and the row."""
    with app.app_context():
        with tenant_scope("t1"):
            answer = execute_job(job_id, job_step_callers)
        db.session.expire_all()
        return answer, db.session.get(Job, job_id)


@pytest.mark.parametrize("max_attempts, attempts", [(3, 3), (1, 1), (2, 5)])
def test_a_job_that_used_its_attempts_fails_on_its_next_claim_without_calling_the_provider(
    app, owner, model, max_attempts, attempts
):
    """A job whose worker died on each of its JOB_MAX_ATTEMPTS attempts (taken over, or redelivered by the broker)
    is not run again: the claim fails it with `job_attempts_exhausted`, keeping its steps and their metering."""
    app.config["JOB_MAX_ATTEMPTS"] = max_attempts
    job = interrupted_job(app, model, attempts)
    calls = len(model.chat_requests())
    answer, failed = deliver(app, job.id)
    assert answer == "failed"
    assert failed.status == "failed" and failed.stage == "failed" and failed.attempts == attempts
    assert failed.error["code"] == "job_attempts_exhausted"
    assert "P000" not in failed.error["message"] and "word" not in failed.error["message"], "no document text"
    assert len(model.chat_requests()) == calls, "the provider is not called"
    assert step_count(app, job.id) == 2 and failed.usage["calls"] == 2, "finished steps and their usage stay"
    with app.app_context():
        runs = db.session.scalar(select(func.count()).where(SkillRun.job_id == job.id, SkillRun.outcome == "succeeded"))
    assert runs == 2
    assert deliver(app, job.id)[0] is None, "a later delivery finds the job ended"


def test_a_job_under_its_attempt_limit_resumes_from_its_stored_steps(app, owner, model):
    """One attempt left: the next delivery takes the job over and finishes it, calling only the missing steps."""
    job = interrupted_job(app, model, attempts=2)  # JOB_MAX_ATTEMPTS defaults to 3
    calls = len(model.chat_requests())
    answer, resumed = deliver(app, job.id)
    assert answer == "succeeded" and resumed.attempts == 3
    assert resumed.output["summary"].split() == markers(40)
    assert len(model.chat_requests()) - calls == step_count(app, job.id) - 2, "stored steps were not called again"


def test_a_job_on_its_last_attempt_is_left_to_its_live_worker(app, owner, model):
    """A delivery while the last attempt still runs (fresh heartbeat) neither runs nor fails the job."""
    job = interrupted_job(app, model, attempts=3, heartbeat_age_seconds=0)
    calls = len(model.chat_requests())
    answer, row = deliver(app, job.id)
    assert answer == BUSY and row.status == "running" and row.error is None
    assert len(model.chat_requests()) == calls


WORDS_PAST_ANY_LIMIT = " ".join(["w"] * 5000)  # past every job skill's max_output_tokens (at most 4,096)
TWO_PARAGRAPHS = "P00001 Erster Absatz.\nP00002 Zweiter Absatz."  # one chunk


def test_a_translated_chunk_cut_off_is_redone_paragraph_by_paragraph(app, owner, model):
    """Even when its paragraph count happens to match, a chunk the output limit cut off is not kept."""
    model.script(reply="P00001 premier\n" + WORDS_PAST_ANY_LIMIT)  # two lines, the second cut off
    job = run(app, "translate_document", {"document": TWO_PARAGRAPHS, "target_language": "French"})
    assert job.status == "succeeded", job.error
    assert [p["text"] for p in job.output["paragraphs"]] == ["P00001", "P00002"]  # each redone on its own
    assert job.output["truncated"] is False and len(model.chat_requests()) == 3


def test_a_paragraph_cut_off_on_its_own_is_marked_truncated(app, owner, model):
    model.script(reply=WORDS_PAST_ANY_LIMIT, times=2)  # the chunk, then its paragraph alone
    job = run(app, "translate_document", {"document": "P00001 Ein sehr langer Absatz.", "target_language": "French"})
    assert job.status == "succeeded", job.error
    (paragraph,) = job.output["paragraphs"]
    assert paragraph["truncated"] is True and len(paragraph["text"].split()) == 4096
    assert job.output["truncated"] is True


def test_a_resumed_job_remembers_a_stored_step_was_cut_off(app, owner, model):
    """The first delivery stores the cut chunk and dies on its redo; the next one redoes it, not accepts it."""
    app.config["JOB_STEP_ATTEMPTS"] = 1
    model.script(reply="P00001 premier\n" + WORDS_PAST_ANY_LIMIT)
    model.fail_next(2, Fault.http_status(400))
    job = run(app, "translate_document", {"document": TWO_PARAGRAPHS, "target_language": "French"})
    assert job.status == "failed" and step_count(app, job.id) == 1
    with app.app_context():
        dead = dict(status="running", error=None, heartbeat_at=utcnow() - timedelta(seconds=600))  # its worker died
        db.session.execute(Job.__table__.update().where(Job.id == job.id).values(**dead))
        db.session.commit()
    answer, resumed = deliver(app, job.id)
    assert answer == "succeeded", resumed.error
    assert [p["text"] for p in resumed.output["paragraphs"]] == ["P00001", "P00002"]


@pytest.mark.parametrize("cut", [True, False])
def test_a_summary_cut_off_says_so(app, owner, model, cut):
    if cut:
        model.script(reply=WORDS_PAST_ANY_LIMIT)
    job = run(app, "summarize_document", {"document": TWO_PARAGRAPHS})
    assert job.status == "succeeded", job.error
    assert job.output["truncated"] is cut and len(model.chat_requests()) == 1


def test_a_sheet_narrative_cut_off_says_so(app, owner, model):
    app.config["JOB_CONCURRENCY"] = 1  # the sheets in order: the first one gets the scripted answer
    model.script(reply=WORDS_PAST_ANY_LIMIT)  # the first sheet's narrative
    sheets = [{"name": f"S{n}", "range": {"address": f"S{n}!A1:A2", "values": [["x"], [n]]}} for n in range(2)]
    job = run(app, "analyze_workbook", {"sheets": sheets})
    assert job.status == "succeeded", job.error
    assert [s.get("truncated", False) for s in job.output["sheets"]] == [True, False]
    assert job.output["truncated"] is True


def test_a_late_delivery_does_not_rewrite_an_ended_job(app, owner, model):
    """A delivery that lost the race stores its step after the job ended: progress and stage stay as they ended."""
    job = run(app, "summarize_document", {"document": TWO_PARAGRAPHS})
    with app.app_context():
        ended = db.session.get(Job, job.id)
        JobContext(ended, None, 1, None).progress(0.3, "summarizing 1 parts")
        db.session.expire_all()
        row = db.session.get(Job, job.id)
        assert (row.status, row.progress, row.stage, row.updated_at) == ("succeeded", 1.0, job.stage, job.updated_at)
