"""Jobs at their edges, through execute_job against the fake model over HTTP: a document that is one enormous
paragraph, text without spaces or with marks that belong together, a provider rate limiting mid-job, a budget
running out mid-job, a provider failing for good, and a cancel while a step waits out a rate limit."""

from __future__ import annotations

import json
import threading
import time
import unicodedata

import pytest
from sqlalchemy import update

from backend.admin.settings import settings_row
from backend.extensions import db
from backend.jobs.chunking import paragraph_pieces
from backend.metering.budgets import budgets_for
from backend.models import Job
from backend.routing.tokens import count_text_tokens
from tests.fakes import Fault
from tests.fakes.harness import TEST_KEY
from tests.jobs_support import MARKER, document, markers
from tests.test_jobs_plans import app_config, model, run, step_count  # noqa: F401 - the fixtures of the plans' tests

ONE_PARAGRAPH = " ".join(f"P{n:05d} word{n % 13} alpha beta." for n in range(1, 301))


def test_a_document_of_one_enormous_paragraph_is_translated_whole(app, owner, model):
    """Every part of a paragraph longer than a chunk is translated once and joined back, in order."""
    job = run(app, "translate_document", {"document": ONE_PARAGRAPH, "target_language": "French"})
    assert job.status == "succeeded", job.error
    assert len(job.output["paragraphs"]) == 1 and job.output["paragraphs"][0]["source_chars"] == len(ONE_PARAGRAPH)
    assert MARKER.findall(job.output["text"]) == markers(300)
    sent = [MARKER.findall(r.body["messages"][-1]["content"]) for r in model.chat_requests()]
    assert all(len(found) < 300 for found in sent), "no call carries the whole paragraph"


def test_a_document_of_one_enormous_paragraph_is_summarized_whole(app, owner, model):
    """The summary of a paragraph longer than a chunk holds every part of it, once."""
    job = run(app, "summarize_document", {"document": ONE_PARAGRAPH})
    assert job.status == "succeeded", job.error
    assert job.output["summary"].split() == markers(300) and job.output["parts"] > 1


def grapheme_safe(left: str, right: str) -> bool:
    """True when cutting between left and right separates no mark, joiner or modifier from its character."""
    first = ord(right[0])
    return not (
        unicodedata.category(right[0]).startswith("M")
        or right[0] in "\u200d\ufe0f"
        or left.endswith("\u200d")
        or 0x1F3FB <= first <= 0x1F3FF
    )


CJK = "这是关于季度报告的一个句子，其中包含收入和成本。" * 400
ARABIC = "هذه جملة طويلة عن التقرير الفصلي والإيرادات؟" * 300  # RTL, its own question mark, no space after it
EMOJI = "👩🏽‍💻👨‍👩‍👧‍👦🇫🇷" * 600  # skin tones, ZWJ sequences and a flag, nothing to break at
COMBINING = "e\u0301a\u0308o\u0302" * 2000  # decomposed accents: every second character is a combining mark


@pytest.mark.parametrize("paragraph", [CJK, ARABIC, EMOJI, COMBINING], ids=["cjk", "arabic", "emoji", "combining"])
def test_text_without_spaces_is_cut_within_the_limit_and_joins_back_unchanged(paragraph):
    """Pieces fit the limit, give back the paragraph exactly when joined (no space put into CJK text), and no cut
    separates an accent, a skin tone or a joined emoji from its character."""
    pieces = paragraph_pieces([paragraph], 200, count_text_tokens)
    assert len(pieces) > 1 and all(piece.tokens <= 200 for piece in pieces)
    assert "".join(piece.text for piece in pieces) == paragraph
    assert all(grapheme_safe(a.text, b.text) for a, b in zip(pieces, pieces[1:], strict=False))


def test_cjk_text_is_split_at_its_sentence_ends():
    """A CJK paragraph is split after its full stops, not in the middle of a sentence."""
    pieces = paragraph_pieces([CJK], 200, count_text_tokens)
    assert all(piece.text.endswith("。") for piece in pieces)


def set_budget(app, user_monthly_usd: float) -> None:
    """Give user u1 of tenant t1 a monthly budget."""
    with app.app_context():
        row = settings_row("t1")
        row.budgets = {**(row.budgets or {}), "user_monthly_usd": user_monthly_usd}
        db.session.commit()


def test_a_provider_rate_limit_mid_job_is_waited_out(app, owner, model):
    """A 429 with Retry-After from the only provider pauses the job for that long, using none of its attempts (the
    other steps find the model's circuit open meanwhile); the job then finishes with every part."""
    app.config.update(JOB_CONCURRENCY=2, JOB_STEP_ATTEMPTS=1)
    model.script(times=3)
    model.fail_next(1, Fault.rate_limited("2"))
    started = time.monotonic()
    job = run(app, "summarize_document", {"document": document(40)})
    assert job.status == "succeeded", job.error
    assert job.output["summary"].split() == markers(40)
    assert time.monotonic() - started >= 2, "the Retry-After was waited out"
    assert job.usage["calls"] == step_count(app, job.id)


def test_a_rate_limit_longer_than_the_wait_allowed_fails_the_job_clearly(app, owner, model):
    """A Retry-After beyond JOB_RATE_LIMIT_MAX_WAIT_SECONDS fails the job: the contract's code, the step, and the
    attempts (model, error kind, status) without any key; the steps that finished stay metered, no hold is left."""
    app.config.update(JOB_CONCURRENCY=1, JOB_STEP_ATTEMPTS=1, JOB_RATE_LIMIT_MAX_WAIT_SECONDS=5)
    model.script(times=2)
    model.fail_next(5, Fault.rate_limited("600"))
    job = run(app, "summarize_document", {"document": document(40)})
    assert job.status == "failed"
    assert (job.error["code"], job.error["step"]) == ("all_models_failed", "map:00002")
    assert job.error["details"]["attempts"] == [{"model": "fake/gpt-test", "error": "rate_limited", "status": 429}]
    assert TEST_KEY not in json.dumps(job.error)
    assert job.usage["calls"] == step_count(app, job.id) == 2
    assert budgets_for(app).usage("t1", "u1")["reserved_usd"] == 0


def test_a_budget_exhausted_mid_job_fails_it_at_once_with_what_was_spent(app, owner, model):
    """An exhausted budget is not waited for (it lasts until the month ends): the job fails with budget_exhausted
    and its scope, keeps the steps it paid for, and the budget shows exactly their cost with no hold left."""
    app.config.update(JOB_CONCURRENCY=1)
    set_budget(app, 0.006)  # room for a few steps' holds, not for the whole job
    started = time.monotonic()
    job = run(app, "summarize_document", {"document": document(40)})
    assert time.monotonic() - started < 30
    assert job.status == "failed"
    assert job.error["code"] == "budget_exhausted" and job.error["details"] == {"scope": "user"}
    steps = step_count(app, job.id)
    assert 1 <= steps == job.usage["calls"] == len(model.chat_requests())
    usage = budgets_for(app).usage("t1", "u1")
    assert usage["reserved_usd"] == 0 and float(usage["spent_usd"]) == pytest.approx(job.usage["cost_usd"])


def test_cancel_reaches_a_step_waiting_out_a_rate_limit(app, owner, model):
    """A job pausing for a long Retry-After stops within a second of its cancel, calls nothing more, and keeps
    the usage of the steps it finished; no budget hold is left."""
    app.config.update(JOB_CONCURRENCY=1)
    model.script(times=2)
    model.fail_next(1, Fault.rate_limited("60"))

    def cancel_once_throttled() -> None:
        """Set the cancel flag once the 429 has been answered (the third call)."""
        while len(model.chat_requests()) < 3:
            time.sleep(0.05)
        time.sleep(0.3)
        with app.app_context():
            db.session.execute(update(Job).values(cancel_requested=True))
            db.session.commit()

    canceller = threading.Thread(target=cancel_once_throttled, daemon=True)
    canceller.start()
    started = time.monotonic()
    job = run(app, "summarize_document", {"document": document(40)})
    canceller.join(5)
    assert job.status == "cancelled" and time.monotonic() - started < 20
    assert len(model.chat_requests()) == 3 and job.usage["calls"] == step_count(app, job.id) == 2
    assert budgets_for(app).usage("t1", "u1")["reserved_usd"] == 0
