"""Idempotency keys of the jobs API: the same key and request is the same job, a reused key for another request is
409, lost insert races, and fingerprints keyed by the secret key."""

from __future__ import annotations

import json
import uuid

import pytest

from backend.errors import ApiError
from backend.extensions import db
from backend.jobs import store
from backend.jobs.request_fingerprint import request_fingerprint
from backend.jobs.submit import IDEMPOTENCY_KEY, IDEMPOTENCY_KEY_RULE
from backend.models import Job, Tenant
from tests.auth_fixtures import (  # noqa: F401
    TENANT_A,
    bearer,
    entra,
    log_lines,
    make_token,
    signing_key,
    tenants,
)
from tests.conftest import add_tenant_with_user
from tests.jobs_support import app_config, model, post_summary_job  # noqa: F401


def test_idempotency_key_returns_the_same_job(app, client, tenants, make_token):  # noqa: F811
    """The same key from the same user: the same job; from another user: a job of their own."""
    token, other = make_token(TENANT_A), make_token(TENANT_A)
    key = f"key-{uuid.uuid4().hex}"
    first = post_summary_job(client, token, idempotency_key=key).get_json()
    again = post_summary_job(client, token, idempotency_key=key)
    assert again.status_code == 202 and again.get_json()["id"] == first["id"]
    assert post_summary_job(client, other, idempotency_key=key).get_json()["id"] != first["id"]
    # Keys are per user: another user's different request with the same key is a job of their own, not a conflict.
    third = post_summary_job(client, make_token(TENANT_A), paragraphs=3, idempotency_key=key)
    assert third.status_code == 202 and third.get_json()["id"] != first["id"]
    with app.app_context():
        assert db.session.query(Job).count() == 3


SECRET_PHRASE = "Confidential merger memo for project ZEBRA-7731"


# The request of the job that `owner_with_keyed_job` made with key "k-1": skill, input, options.
FIRST_REQUEST = ("summarize_document", {"document": SECRET_PHRASE}, {})


def job_body(document_text: str = SECRET_PHRASE, **fields) -> dict:
    """A POST /api/jobs body for a summary of one short document."""
    return {"skill": "summarize_document", "input": {"document": document_text}, **fields}


@pytest.mark.parametrize(
    "second",
    [
        pytest.param({"input": {"document": "A different document altogether."}}, id="different input"),
        pytest.param({"input": {"document": SECRET_PHRASE, "length": "long"}}, id="different input field"),
        pytest.param({"options": {"priority": "high"}}, id="different options"),
        pytest.param(
            {"skill": "translate_document", "input": {"document": SECRET_PHRASE, "target_language": "fr"}},
            id="different skill",
        ),
    ],
)
def test_idempotency_key_reused_for_a_different_request_is_409(app, client, tenants, make_token, log_lines, second):  # noqa: F811
    """The same key for another skill, input or options is refused: the first job would silently stand in for a
    document it never saw. The answer and the logs name the misuse, never the document."""
    token, key = make_token(TENANT_A), f"key-{uuid.uuid4().hex}"
    first_body = job_body(idempotency_key=key, options={"priority": "low"})
    assert client.post("/api/jobs", json=first_body, headers=bearer(token)).status_code == 202
    reused = client.post("/api/jobs", json={**first_body, **second}, headers=bearer(token))
    assert reused.status_code == 409, reused.get_json()
    error = reused.get_json()["error"]
    assert error["code"] == "idempotency_key_reused"
    assert error["message"] == "This idempotency key was already used for a different request."
    assert "ZEBRA" not in reused.get_data(as_text=True) and "different document" not in reused.get_data(as_text=True)
    assert not [line for line in log_lines() if "ZEBRA" in line or "different document" in line]
    with app.app_context():
        assert db.session.query(Job).count() == 1


def test_idempotency_key_with_the_same_request_in_another_key_order_is_the_same_job(app, client, tenants, make_token):  # noqa: F811
    """The fingerprint is of canonical JSON: the same skill, input and options in another order are the same request,
    and omitted options are the same as empty ones."""
    token, key = make_token(TENANT_A), f"key-{uuid.uuid4().hex}"
    document_input = {"document": SECRET_PHRASE, "length": "short"}
    first = client.post("/api/jobs", json=job_body(input=document_input, idempotency_key=key), headers=bearer(token))
    # Sent as text: the test client's JSON encoder would sort the keys back into the first request's order.
    reordered = {"options": {}, "idempotency_key": key, "input": {"length": "short", "document": SECRET_PHRASE}}
    again = client.post(
        "/api/jobs",
        data=json.dumps({**reordered, "skill": "summarize_document"}),
        content_type="application/json",
        headers=bearer(token),
    )
    assert again.status_code == 202 and again.get_json() == first.get_json()
    with app.app_context():
        fingerprint = db.session.get(Job, first.get_json()["id"]).request_fingerprint
    assert len(fingerprint) == 64 and int(fingerprint, 16) >= 0


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_app(request):
    """The app on SQLite, then on PostgreSQL (where a failed INSERT aborts the transaction until rolled back)."""
    return request.getfixturevalue("app" if request.param == "sqlite" else "app_pg")


@pytest.fixture
def owner_with_keyed_job(store_app):
    """The owner ("t1", "u1") and their job made with idempotency key "k-1" for FIRST_REQUEST."""
    tenant_id, user_id = "t1", "u1"
    with store_app.app_context():
        add_tenant_with_user(tenant_id, user_id)
        fingerprint = request_fingerprint(*FIRST_REQUEST)
        job = Job(tenant_id=tenant_id, user_id=user_id, skill_id="summarize_document", options={})
        job.idempotency_key, job.request_fingerprint = "k-1", fingerprint
        db.session.add(job)
        db.session.commit()
        return tenant_id, user_id, job.id


def lost_race(monkeypatch) -> list[tuple]:
    """Make create_job's first look-up by key miss, as when another request inserts the same key just after it;
    returns the look-ups made (two once the insert hit the unique key and the race path looked again)."""
    real, calls = store._by_idempotency_key, []

    def miss_first(*args):
        """None the first time, then the real look-up."""
        calls.append(args)
        return None if len(calls) == 1 else real(*args)

    monkeypatch.setattr(store, "_by_idempotency_key", miss_first)
    return calls


def test_a_lost_race_returns_the_winners_job_for_the_same_request(store_app, owner_with_keyed_job, monkeypatch):
    """The insert of the loser hits the unique key; the winner's job is its answer when the requests are the same."""
    tenant_id, user_id, job_id = owner_with_keyed_job
    lookups = lost_race(monkeypatch)
    with store_app.app_context():
        job, created = store.create_job(tenant_id, user_id, *FIRST_REQUEST, "k-1")
        assert (job.id, created) == (job_id, False)
        assert len(lookups) == 2
        assert db.session.query(Job).count() == 1


def test_a_lost_race_for_a_key_with_a_different_request_is_409(store_app, owner_with_keyed_job, monkeypatch):
    """The race path compares fingerprints too: the winner's job never stands in for another document."""
    tenant_id, user_id, _job_id = owner_with_keyed_job
    lookups = lost_race(monkeypatch)
    with store_app.app_context():
        with pytest.raises(ApiError) as refused:
            store.create_job(tenant_id, user_id, "summarize_document", {"document": "Another text"}, {}, "k-1")
        assert (refused.value.status, refused.value.code) == (409, "idempotency_key_reused")
        assert len(lookups) == 2
        assert db.session.query(Job).count() == 1


def test_a_job_made_before_fingerprints_matches_any_request(store_app, owner_with_keyed_job):
    """A key used before fingerprints were stored (NULL) keeps today's meaning: the same job, whatever the body."""
    tenant_id, user_id, job_id = owner_with_keyed_job
    with store_app.app_context():
        db.session.get(Job, job_id).request_fingerprint = None
        db.session.commit()
        job, created = store.create_job(tenant_id, user_id, "summarize_document", {"document": "Other"}, {}, "k-1")
        assert (job.id, created) == (job_id, False)


def test_fingerprints_are_keyed_by_the_secret_key_and_survive_its_rotation(store_app, owner_with_keyed_job):
    """Another secret key gives another fingerprint (an HMAC, not a hash anyone could recompute); after a rotation
    the previous key, kept in SECRET_KEY_FALLBACKS, still recognises the request."""
    tenant_id, user_id, job_id = owner_with_keyed_job
    with store_app.app_context():
        before = request_fingerprint(*FIRST_REQUEST)
        previous = store_app.config["SECRET_KEY"]
        rotated = "a-rotated-secret-key-0123456789-abcdefghij"
        store_app.config.update(SECRET_KEY=rotated, SECRET_KEY_FALLBACKS=[previous])
        assert request_fingerprint(*FIRST_REQUEST) != before
        job, created = store.create_job(tenant_id, user_id, *FIRST_REQUEST, "k-1")
        assert (job.id, created) == (job_id, False)
        with pytest.raises(ApiError):
            store.create_job(tenant_id, user_id, "summarize_document", {"document": "Other"}, {}, "k-1")
        store_app.config["SECRET_KEY_FALLBACKS"] = []  # the previous key forgotten: its fingerprints mean nothing now
        with pytest.raises(ApiError):
            store.create_job(tenant_id, user_id, *FIRST_REQUEST, "k-1")


# Keys a client should never send: each is refused whole, not trimmed or stored.
UNUSABLE_KEYS = {
    "empty": "",
    "too long": "k" * 129,
    "a document": SECRET_PHRASE,
    "a line break": "key-1\n",
    "a control character": "key\x07-1",
    "a NUL character": "key\x00-1",
    "not ASCII": "clé-1",
}


@pytest.mark.parametrize("key", list(UNUSABLE_KEYS.values()), ids=list(UNUSABLE_KEYS))
def test_an_idempotency_key_that_is_no_plain_id_is_422_naming_the_rule(store_app, make_token, key):  # noqa: F811
    """The key is kept beside the job as long as its row lives: only a short, plain id is taken. The 422 states the
    rule in the error shape of the contract, never the key, and nothing is stored (on PostgreSQL too, where a NUL
    could not be)."""
    with store_app.app_context():
        db.session.add(Tenant(id=TENANT_A, name="Contoso"))
        db.session.commit()
    response = store_app.test_client().post(
        "/api/jobs", json=job_body(idempotency_key=key), headers=bearer(make_token(TENANT_A))
    )
    assert response.status_code == 422, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == "invalid_idempotency_key"
    assert error["message"] == "`idempotency_key` " + IDEMPOTENCY_KEY_RULE + "."
    assert error["details"] == {"fields": [{"field": "idempotency_key", "message": IDEMPOTENCY_KEY_RULE}]}
    if key:
        assert key not in response.get_data(as_text=True) and "ZEBRA" not in response.get_data(as_text=True)
    with store_app.app_context():
        assert db.session.query(Job).count() == 0


@pytest.mark.parametrize("key", [str(uuid.uuid4()), "k" * 128, "batch:2026-12-01.retry_2", "1"])
def test_a_plain_idempotency_key_is_taken_as_sent(app, client, tenants, make_token, key):  # noqa: F811
    """A UUID (what the task pane sends), the longest key allowed, and every character the rule allows."""
    response = post_summary_job(client, make_token(TENANT_A), idempotency_key=key)
    assert response.status_code == 202, response.get_json()
    with app.app_context():
        assert db.session.get(Job, response.get_json()["id"]).idempotency_key == key


def test_the_documented_idempotency_key_is_the_rule_applied(app, client):
    """The served OpenAPI document states the pattern that POST /api/jobs enforces."""
    spec = client.get("/api/openapi.json").get_json()
    schema = spec["paths"]["/api/jobs"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert schema["properties"]["idempotency_key"]["pattern"] == f"^{IDEMPOTENCY_KEY.pattern}$"
