"""Jobs that name a OneDrive/SharePoint file: the OBO exchange happens once at submit, the worker gets its Graph token
silently from the owner's encrypted cache, follows Graph's redirect without the token, and reads .docx/.txt text.

Real MSAL against the loopback Entra, real HTTP to a loopback Graph, the fake model over HTTP.
"""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from xml.sax.saxutils import escape

import pytest
from celery.contrib.testing.worker import start_worker

from backend.extensions import db
from backend.jobs.document_text import UnsupportedDocument, docx_text
from backend.jobs.drive_items import DriveItemError, resolve_drive_item
from backend.jobs.execute import execute_job
from backend.jobs.model_calls import job_step_callers
from backend.jobs.store import decompress_input
from backend.models import Job, UserTokenCache
from backend.tenancy import tenant_scope
from tests.auth_fixtures import (  # noqa: F401 - fixtures
    TENANT_A,
    bearer,
    log_lines,
    make_token,
    signing_key,
    tenants,
)
from tests.fakes.graph import DriveItem, FakeGraph
from tests.jobs_support import MarkerModel, document, markers, providers_file, wait_for
from tests.test_auth_obo import entra, http_client, obo_app_config  # noqa: F401 - fixtures

DRIVE = "b!drive-Id_01"
LIMIT = 64 * 1024
W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def docx(paragraphs: list[str]) -> bytes:
    """A minimal .docx: each paragraph split over two runs, the last one inside a table cell."""
    runs = [
        f"<w:p><w:r><w:t>{escape(p[:3])}</w:t></w:r><w:r><w:t xml:space='preserve'>{escape(p[3:])}</w:t></w:r></w:p>"
        for p in paragraphs
    ]
    runs[-1] = f"<w:tbl><w:tr><w:tc>{runs[-1]}</w:tc></w:tr></w:tbl>"
    body = f"<?xml version='1.0'?><w:document xmlns:w='{W_NS}'><w:body>{''.join(runs)}</w:body></w:document>"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", body)
    return buffer.getvalue()


@pytest.fixture
def graph(entra):
    """The loopback Graph, accepting exactly the access tokens the fake Entra issued, each for its own user."""
    with FakeGraph(token_owner=entra.issued_access_tokens.get) as fake:
        yield fake


@pytest.fixture
def model():
    """The fake model, answering at once with the paragraph markers it was sent."""
    with MarkerModel() as server:
        yield server


@pytest.fixture
def app_config(app_config, entra, http_client, graph, model, tmp_path, monkeypatch) -> dict:
    """Production-shaped Entra (https authority through the injected client), Graph and the model on loopback."""
    monkeypatch.setenv("TEST_FAKE_KEY", "sk-test-secret-0123456789")
    return {
        **obo_app_config(app_config, entra, http_client),
        "GRAPH_BASE_URL": graph.base_url,
        "BROKER_URL": f"sqla+sqlite:///{tmp_path / 'broker.sqlite'}",
        "PROVIDERS_FILE": str(providers_file(tmp_path / "providers.yaml", model)),
        "JOB_CHUNK_TOKENS": 200,
        "JOB_SWEEP_SECONDS": 0,
        "JOB_MAX_INPUT_BYTES": LIMIT,
        "CELERY_POLL_INTERVAL": 0.05,
    }


def submit(client, token, item_id, skill="summarize_document", **fields):
    """POST /api/jobs naming a drive item."""
    body = {"skill": skill, "input": {"drive_item": {"drive_id": DRIVE, "item_id": item_id}, **fields}}
    return client.post("/api/jobs", json=body, headers=bearer(token))


def run_in_process(app, job_id: str) -> Job:
    """Execute the job the way the worker does (app context, the job's tenant scope); the finished row."""
    with app.app_context():
        with tenant_scope(TENANT_A):
            execute_job(job_id, job_step_callers)
        db.session.expire_all()
        job = db.session.get(Job, job_id)
        db.session.expunge(job)
        return job


def test_a_docx_is_summarized_with_the_token_from_the_owners_cache(
    app, client, tenants, make_token, entra, graph, model, log_lines
):
    """One OBO exchange at submit; the worker's token comes from the cache; the download never sees the token."""
    alice = str(uuid.uuid4())
    graph.add(DRIVE, "01DOCX", DriveItem(alice, "Report.docx", docx(document(12).split("\n"))))
    user_token = make_token(TENANT_A, alice)
    response = submit(client, user_token, "01DOCX")
    assert response.status_code == 202, response.get_json()
    assert entra.hits["token"] == 1 and entra.token_requests[0]["assertion"] == user_token
    assert [r.path for r in graph.requests] == [f"/v1.0/drives/{DRIVE}/items/01DOCX"]  # metadata only at submit
    job_id = response.get_json()["id"]
    with app.app_context():
        stored = decompress_input(db.session.get(Job, job_id).input_compressed)
    assert stored == {"drive_item": {"drive_id": DRIVE, "item_id": "01DOCX"}}  # the reference, not the content

    job = run_in_process(app, job_id)
    assert job.status == "succeeded", job.error
    assert job.output["summary"].split() == markers(12)
    assert entra.hits["token"] == 1  # the worker's token came from Alice's cache, no new exchange
    content = graph.paths(f"/v1.0/drives/{DRIVE}/items/01DOCX/content")
    assert len(content) == 1 and entra.issued_access_tokens[content[0].authorization.removeprefix("Bearer ")] == alice
    downloads = graph.paths("/download/")
    assert len(downloads) == 1 and downloads[0].authorization is None
    graph_tokens = set(entra.issued_access_tokens)
    text = "P00001 word"
    assert all(user_token not in line and text not in line for line in log_lines())
    assert all(token not in line for token in graph_tokens for line in log_lines())


def test_a_txt_file_is_translated_paragraph_by_paragraph(app, client, tenants, make_token, graph, model):
    """A UTF-8 text file (with a BOM) becomes the document of translate_document."""
    oid = str(uuid.uuid4())
    graph.add(DRIVE, "01TXT", DriveItem(oid, "notes.txt", ("\ufeff" + document(5)).encode("utf-8")))
    response = submit(client, make_token(TENANT_A, oid), "01TXT", skill="translate_document", target_language="German")
    assert response.status_code == 202, response.get_json()
    job = run_in_process(app, response.get_json()["id"])
    assert job.status == "succeeded", job.error
    assert len(job.output["paragraphs"]) == len(document(5).split("\n"))


def test_each_job_uses_its_own_owners_token_and_nobody_reads_anothers_file(
    app, client, tenants, make_token, entra, graph, model
):
    """Alice's and Bob's jobs each fetch with their owner's token; Bob naming Alice's file is refused at submit."""
    alice, bob = str(uuid.uuid4()), str(uuid.uuid4())
    graph.add(DRIVE, "01ALICE", DriveItem(alice, "a.md", document(3).encode()))
    graph.add(DRIVE, "01BOB", DriveItem(bob, "b.md", document(4).encode()))
    jobs = {
        alice: submit(client, make_token(TENANT_A, alice), "01ALICE").get_json()["id"],
        bob: submit(client, make_token(TENANT_A, bob), "01BOB").get_json()["id"],
    }
    stolen = submit(client, make_token(TENANT_A, bob), "01ALICE")
    assert stolen.status_code == 404 and stolen.get_json()["error"]["code"] == "drive_item_not_found"
    hits_after_submit = entra.hits["token"]
    assert hits_after_submit == 2  # one OBO exchange per user; Bob's second submit came from his cache
    for oid, job_id in jobs.items():
        job = run_in_process(app, job_id)
        assert job.status == "succeeded", job.error
        assert job.output["summary"].split() == markers(3 if oid == alice else 4)
    assert entra.hits["token"] == hits_after_submit
    owners = {
        r.path.split("/")[5]: entra.issued_access_tokens[r.authorization.removeprefix("Bearer ")]
        for r in graph.paths(f"/v1.0/drives/{DRIVE}/items/")
        if r.path.endswith("/content")
    }
    assert owners == {"01ALICE": alice, "01BOB": bob}


@pytest.mark.parametrize("hide_length", [False, True])
def test_size_limits_at_submit_and_while_downloading(app, client, tenants, make_token, graph, hide_length):
    """Metadata over the limit is 413 at submit; content over the limit (despite its metadata) fails the job, whether
    the download declares its length or the limit is only seen while streaming."""
    oid = str(uuid.uuid4())
    token = make_token(TENANT_A, oid)
    graph.add(DRIVE, "01HUGE", DriveItem(oid, "huge.txt", b"x", size=LIMIT + 1))
    response = submit(client, token, "01HUGE")
    assert response.status_code == 413 and response.get_json()["error"]["code"] == "document_too_large"
    graph.add(DRIVE, "01GROWN", DriveItem(oid, "grown.txt", b"y" * (LIMIT + 1), size=10, hide_length=hide_length))
    response = submit(client, token, "01GROWN")
    assert response.status_code == 202
    job = run_in_process(app, response.get_json()["id"])
    assert job.status == "failed" and job.error["code"] == "document_too_large" and job.error["message"]


def test_unsupported_files_are_refused_at_submit_or_fail_the_job(app, client, tenants, make_token, graph):
    """A .pdf or a folder is 422 at submit; a .docx that is not a zip fails the job with unsupported_document."""
    oid = str(uuid.uuid4())
    token = make_token(TENANT_A, oid)
    graph.add(DRIVE, "01PDF", DriveItem(oid, "scan.pdf", b"%PDF-1.7"))
    graph.add(DRIVE, "01DIR", DriveItem(oid, "Reports", b"", folder=True))
    graph.add(DRIVE, "01FAKE", DriveItem(oid, "fake.docx", b"not a zip at all"))
    for item_id in ("01PDF", "01DIR"):
        response = submit(client, token, item_id)
        assert response.status_code == 422 and response.get_json()["error"]["code"] == "unsupported_document"
    response = submit(client, token, "01FAKE")
    assert response.status_code == 202
    job = run_in_process(app, response.get_json()["id"])
    assert (job.status, job.error["code"]) == ("failed", "unsupported_document")


def test_a_worker_without_a_cached_token_fails_with_interaction_required(
    app, client, tenants, make_token, entra, graph, model
):
    """The cache was lost after submit (or the refresh token revoked): no silent token; the user must reopen Word."""
    oid = str(uuid.uuid4())
    graph.add(DRIVE, "01DOC", DriveItem(oid, "doc.txt", document(2).encode()))
    response = submit(client, make_token(TENANT_A, oid), "01DOC")
    assert response.status_code == 202
    with app.app_context():
        db.session.query(UserTokenCache).delete()
        db.session.commit()
    job = run_in_process(app, response.get_json()["id"])
    assert (job.status, job.error["code"]) == ("failed", "interaction_required")
    assert entra.hits["token"] == 1 and not graph.paths(f"/v1.0/drives/{DRIVE}/items/01DOC/content")
    assert not model.chat_requests()


def test_a_resume_over_a_changed_file_fails_instead_of_mixing_versions(app, client, tenants, make_token, graph):
    """The first resolution pins the content's hash; the same file resolves again, an edited one is refused."""
    oid = str(uuid.uuid4())
    graph.add(DRIVE, "01EDIT", DriveItem(oid, "edit.md", document(3).encode()))
    job_id = submit(client, make_token(TENANT_A, oid), "01EDIT").get_json()["id"]
    with app.app_context(), tenant_scope(TENANT_A):
        job = db.session.get(Job, job_id)
        data = decompress_input(job.input_compressed)
        assert resolve_drive_item(job, data)["document"] == document(3)
        assert resolve_drive_item(job, data)["document"] == document(3)  # a redelivery over the same file
        graph.items[(DRIVE, "01EDIT")].content = document(4).encode()
        with pytest.raises(DriveItemError) as refused:
            resolve_drive_item(job, data)
    assert refused.value.code == "document_changed"


def test_interaction_required_at_submit_is_401_with_claims(client, tenants, make_token, entra, graph):
    """Entra wants MFA for the OBO exchange: the add-in gets the claims challenge and no job is made."""
    oid = str(uuid.uuid4())
    entra.interaction_required_oids.add(oid)
    response = submit(client, make_token(TENANT_A, oid), "01ANY")
    assert response.status_code == 401
    error = response.get_json()["error"]
    assert error["code"] == "interaction_required" and json.loads(error["details"]["claims"])
    assert not graph.requests


@pytest.mark.parametrize(
    "drive_input",
    [
        {"drive_item": {"drive_id": DRIVE, "item_id": "../../me"}},
        {"drive_item": {"drive_id": DRIVE, "item_id": "x" * 257}},
        {"drive_item": {"drive_id": DRIVE}},
        {"drive_item": {"drive_id": DRIVE, "item_id": "01A", "url": "https://evil.example"}},
        {"drive_item": "b!drive/01A"},
        {"drive_item": {"drive_id": DRIVE, "item_id": "01A"}, "document": "text"},
    ],
)
def test_bad_references_are_422_before_any_token_is_requested(client, tenants, make_token, entra, drive_input):
    """Unsafe ids, missing or extra fields, or both a document and a reference."""
    body = {"skill": "summarize_document", "input": drive_input}
    response = client.post("/api/jobs", json=body, headers=bearer(make_token(TENANT_A)))
    assert response.status_code == 422 and response.get_json()["error"]["code"] == "invalid_input"
    assert entra.hits["token"] == 0


def test_a_real_worker_fetches_the_file(app, client, tenants, make_token, entra, graph, model):
    """Through Celery (a real worker consuming the broker): the job succeeds with no further token exchange."""
    oid = str(uuid.uuid4())
    token = make_token(TENANT_A, oid)
    graph.add(DRIVE, "01W", DriveItem(oid, "w.docx", docx(document(6).split("\n"))))
    job_id = submit(client, token, "01W").get_json()["id"]
    with start_worker(app.extensions["celery"], perform_ping_check=False, shutdown_timeout=30):

        def ended():
            """The job once it is final."""
            body = client.get(f"/api/jobs/{job_id}", headers=bearer(token)).get_json()
            return body if body["status"] in ("succeeded", "failed", "cancelled") else None

        done = wait_for(ended, 30, what="the job to end")
    assert done["status"] == "succeeded", done
    assert done["output"]["summary"].split() == markers(6) and entra.hits["token"] == 1


def test_docx_text_keeps_paragraphs_and_refuses_hostile_files():
    """Runs join within a paragraph; entities (DTDs) and oversized XML are refused."""
    assert docx_text(docx(["Hello world", "Second one", "In a table"]), 10_000).split("\n") == [
        "Hello world",
        "Second one",
        "In a table",
    ]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<!DOCTYPE d [<!ENTITY a 'aaaa'>]><d>&a;&a;</d>")
    with pytest.raises(UnsupportedDocument):
        docx_text(buffer.getvalue(), 10_000)
    with pytest.raises(UnsupportedDocument):
        docx_text(docx(["x" * 5000]), 1000)
