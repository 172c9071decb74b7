"""`switchboard jobs purge` (retention) and `switchboard jobs requeue` (recovery), and the pieces behind them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from backend.cli import main
from backend.extensions import db
from backend.jobs.chunking import chunk_paragraphs, split_paragraphs
from backend.jobs.store import compress_input
from backend.models import Job, JobStep, SkillRun
from backend.models.columns import utcnow
from backend.routing.tokens import count_text_tokens


@pytest.fixture
def app_config(app_config, tmp_path) -> dict:
    """A broker file of this test's own (requeue sends messages)."""
    return {**app_config, "BROKER_URL": f"sqla+sqlite:///{tmp_path / 'broker.sqlite'}"}


def add_job(app, status: str, **fields) -> str:
    """A job row with one stored step and its metering."""
    with app.app_context():
        content = {"input_compressed": compress_input({"document": "secret text"}), "output": {"summary": "s"}}
        job = Job(tenant_id="t1", user_id="u1", skill_id="summarize_document", status=status, options={},
                  **content, **fields)  # fmt: skip
        db.session.add(job)
        db.session.flush()
        db.session.add(JobStep(job_id=job.id, tenant_id="t1", key="map:00000", result="partial"))
        db.session.add(SkillRun(tenant_id="t1", user_id="u1", skill_id="summarize_document", job_id=job.id,
                                outcome="succeeded", input_tokens=5, routing={}))  # fmt: skip
        db.session.commit()
        return job.id


def cli_env(app) -> dict[str, str]:
    """The operator's environment pointing at the test app's storage."""
    return {
        "SWITCHBOARD_INSTANCE_PATH": app.instance_path,
        "SWITCHBOARD_DATABASE_URL": app.config["DATABASE_URL"],
        "SWITCHBOARD_BROKER_URL": app.config["BROKER_URL"],
        "SWITCHBOARD_SECRET_KEY": app.config["SECRET_KEY"],
        "SWITCHBOARD_JOB_STALE_SECONDS": "30",
    }


def test_purge_deletes_the_content_of_expired_finished_jobs_only(app, owner):
    """Expired finished jobs lose input, output and steps; metering stays; unexpired or running jobs keep all."""
    past, future = utcnow() - timedelta(days=1), utcnow() + timedelta(days=1)
    expired = add_job(app, "succeeded", expires_at=past)
    fresh = add_job(app, "succeeded", expires_at=future)
    running = add_job(app, "running", expires_at=past, heartbeat_at=utcnow())
    result = CliRunner().invoke(main, ["jobs", "purge"], env=cli_env(app))
    assert result.exit_code == 0, result.output
    assert "purged 1 jobs" in result.output
    with app.app_context():
        job = db.session.get(Job, expired)
        assert (job.input_compressed, job.output, job.stage, job.status) == (None, None, "expired", "succeeded")
        steps = dict(db.session.execute(select(JobStep.job_id, func.count()).group_by(JobStep.job_id)).all())
        assert steps == {fresh: 1, running: 1}
        assert db.session.scalar(select(func.count()).select_from(SkillRun)) == 3
        assert db.session.get(Job, fresh).input_compressed is not None
    again = CliRunner().invoke(main, ["jobs", "purge"], env=cli_env(app))
    assert "purged 0 jobs" in again.output


def test_requeue_takes_dead_and_lost_jobs_only(app, owner):
    """Running with a stale heartbeat, or queued too long: queued again (and sent); live or finished: untouched."""
    old = utcnow() - timedelta(minutes=10)
    dead = add_job(app, "running", heartbeat_at=old)
    lost = add_job(app, "queued")
    alive = add_job(app, "running", heartbeat_at=utcnow())
    done = add_job(app, "succeeded", heartbeat_at=old)
    with app.app_context():
        db.session.execute(db.session.get(Job, lost).__table__.update().values(updated_at=old).where(Job.id == lost))
        db.session.commit()
    result = CliRunner().invoke(main, ["jobs", "requeue", "--queued-seconds", "60"], env=cli_env(app))
    assert result.exit_code == 0, result.output
    assert sorted(result.stdout.split()) == sorted([dead, lost])
    assert result.stderr == "requeued 2 jobs\n"
    with app.app_context():
        statuses = {job.id: job.status for job in db.session.scalars(select(Job))}
        assert statuses == {dead: "queued", lost: "queued", alive: "running", done: "succeeded"}
        with app.extensions["celery"].connection_for_read() as connection:
            assert connection.default_channel._size("celery") == 2


def test_chunks_respect_the_token_limit_and_keep_every_paragraph():
    """Chunks stay under the limit, break before headings when half full, and cover every paragraph in order."""
    paragraphs = []
    for section in range(6):
        paragraphs.append(f"{section + 1}. Section {section + 1}")
        paragraphs += [" ".join(f"w{section}x{i}" for i in range(30 + 7 * j)) + "." for j in range(5)]
    paragraphs.append("x " * 500)  # one paragraph larger than a chunk: split by words
    count = len  # one "token" per character keeps the arithmetic visible

    chunks = chunk_paragraphs(split_paragraphs("\n".join(paragraphs)), 600, count)
    assert all(c.tokens <= 600 for c in chunks)
    assert [c.first_paragraph for c in chunks] == sorted(c.first_paragraph for c in chunks)
    text = "\n\n".join(c.text for c in chunks)
    assert all(p.strip()[:40] in text for p in paragraphs)
    assert sum(1 for c in chunks if c.text.split("\n\n")[0][0].isdigit()) >= 3, "sections start chunks"


def test_a_huge_paragraph_is_chunked_within_the_limit_in_linear_time():
    """A text without line breaks beyond the tokenizer's 1,000,000 characters (a job takes up to 20 MB) is split
    into chunks that fit, instead of failing the job; the tokenizer sees each character a bounded number of times
    (word grouping used to count the growing group again for every word); a word longer than a chunk (a base64
    blob) is cut to fit."""
    words = [f"word{(n * 7919) % 997}" for n in range(180_000)]
    blob = "QUJD" * 6000  # one 24,000-character word: more tokens than a chunk holds
    text = " ".join(words) + " " + blob
    assert len(text) > 1_000_000
    counted = []

    def counting(piece: str) -> int:
        """The real tokenizer, remembering how much text it was given."""
        counted.append(len(piece))
        return count_text_tokens(piece)

    chunks = chunk_paragraphs(split_paragraphs(text), 3000, counting)
    assert all(count_text_tokens(c.text) <= 3000 for c in chunks)
    assert " ".join(c.text for c in chunks).split()[: len(words)] == words
    assert "".join(" ".join(c.text for c in chunks).split()[len(words) :]) == blob
    assert sum(counted) <= 6 * len(text), "chunking must not re-count the text it is building"
    counted.clear()
    sentences = ". ".join(" ".join(words[n : n + 12]) for n in range(0, len(words), 12)) + "."
    chunks = chunk_paragraphs(split_paragraphs(sentences), 3000, counting)
    assert all(count_text_tokens(c.text) <= 3000 for c in chunks)
    assert " ".join(c.text for c in chunks).split() == sentences.split()
    assert sum(counted) <= 6 * len(sentences), "chunking must not re-count the text it is building"


def test_a_sweep_that_cannot_reach_the_broker_leaves_the_job_to_the_next_sweep(app, owner, monkeypatch):
    """The broker is down while a worker sweeps (the sweep only looks at running jobs): the dead job must not be
    turned into a queued job no message will ever start; the next sweep, with the broker back, requeues it."""
    from backend.jobs.recovery import requeue_stale_jobs
    from backend.tasks.jobs import run_job

    dead = add_job(app, "running", heartbeat_at=utcnow() - timedelta(minutes=10))

    def broker_down(*_args, **_kwargs):
        """What sending a message does while the broker is unreachable."""
        raise ConnectionRefusedError(111, "Connection refused")

    monkeypatch.setattr(run_job, "apply_async", broker_down)
    with app.app_context():
        assert requeue_stale_jobs(30) == []
        assert db.session.get(Job, dead).status == "running"
    monkeypatch.undo()
    with app.app_context():
        assert requeue_stale_jobs(30) == [dead]
        assert db.session.get(Job, dead).status == "queued"


def test_requeue_fails_a_dead_job_that_used_its_attempts_instead_of_sending_it_again(app, owner):
    """A dead job started JOB_MAX_ATTEMPTS times (its worker died each time) is failed with `job_attempts_exhausted`,
    its step and metering kept, and no message sent; a dead job with an attempt left is requeued as before."""
    old = utcnow() - timedelta(minutes=10)
    exhausted = add_job(app, "running", heartbeat_at=old, attempts=2)
    lost = add_job(app, "queued", attempts=2)  # a message lost after the sweep queued it again
    resumable = add_job(app, "running", heartbeat_at=old, attempts=1)
    with app.app_context():
        db.session.execute(Job.__table__.update().values(updated_at=old).where(Job.id == lost))
        db.session.commit()
    env = {**cli_env(app), "SWITCHBOARD_JOB_MAX_ATTEMPTS": "2"}
    result = CliRunner().invoke(main, ["jobs", "requeue", "--queued-seconds", "60"], env=env)
    assert result.exit_code == 0, result.output
    assert result.stdout.split() == [resumable]
    with app.app_context():
        for job_id in (exhausted, lost):
            job = db.session.get(Job, job_id)
            assert (job.status, job.error["code"], job.attempts) == ("failed", "job_attempts_exhausted", 2)
            assert "secret text" not in job.error["message"]
            models = [{"provider": None, "model": None, "location": None, "calls": 1}]
            assert job.usage == {"calls": 1, "input_tokens": 5, "output_tokens": 0, "cost_usd": 0.0, "models": models}
        assert db.session.get(Job, resumable).status == "queued"
        assert db.session.scalar(select(func.count()).select_from(JobStep)) == 3
        assert db.session.scalar(select(func.count()).select_from(SkillRun)) == 3
        with app.extensions["celery"].connection_for_read() as connection:
            assert connection.default_channel._size("celery") == 1


def test_a_dead_job_its_owner_cancelled_ends_cancelled_when_its_attempts_are_used(app, owner):
    """A cancel asked for while the job's last worker died: the sweep ends it cancelled, not failed for its attempts."""
    old = utcnow() - timedelta(minutes=10)
    dead = add_job(app, "running", heartbeat_at=old, attempts=2)
    with app.app_context():
        db.session.execute(Job.__table__.update().values(cancel_requested=True).where(Job.id == dead))
        db.session.commit()
    env = {**cli_env(app), "SWITCHBOARD_JOB_MAX_ATTEMPTS": "2"}
    result = CliRunner().invoke(main, ["jobs", "requeue"], env=env)
    assert result.exit_code == 0, result.output
    with app.app_context():
        job = db.session.get(Job, dead)
        assert (job.status, job.error) == ("cancelled", None)
        assert job.usage["calls"] == 1  # what its steps spent is still summed
