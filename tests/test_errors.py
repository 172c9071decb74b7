"""Every error answers in the contract's shape, proven against a running gunicorn (the production command line).

The server runs the production app plus one test-only route that raises (tests/live_server.py), so the 500 path is
exercised exactly as a bug in a view would exercise it.
"""

from __future__ import annotations

import json
import uuid

import pytest

from tests.fakes.entra import FakeEntra, new_rsa_key
from tests.live_server import FAILURE_TEXT, SIGNING_KID, LiveServer, signed_token

pytestmark = pytest.mark.slow  # one server for the module: a few seconds to boot
BODY_LIMIT = 4096
JOB_BODY_LIMIT = 4 * BODY_LIMIT  # /api/jobs takes bigger inputs than a direct call: its own limit
DOCUMENT_TEXT = "Project Nightingale acquisition price is 41 million"


@pytest.fixture(scope="module")
def keys():
    """The key the loopback Entra publishes, and one nobody publishes."""
    return new_rsa_key(), new_rsa_key()


@pytest.fixture(scope="module")
def entra(keys):
    """A loopback Entra for the module's server."""
    with FakeEntra() as fake:
        fake.publish(keys[0], SIGNING_KID)
        yield fake


@pytest.fixture(scope="module")
def server(tmp_path_factory, entra):
    """The production app plus a failing route, under gunicorn with two workers and a small body limit."""
    tmp = tmp_path_factory.mktemp("errors-server")
    live = LiveServer.start(
        tmp,
        entra.base_url,
        app_spec="tests.live_server:app_with_failing_route()",
        MAX_CONTENT_LENGTH=str(BODY_LIMIT),
        JOB_MAX_INPUT_BYTES=str(JOB_BODY_LIMIT),
    )
    yield live
    live.stop()


@pytest.fixture(scope="module")
def user(entra, keys) -> dict[str, str]:
    """Headers of a user of the onboarded tenant, with a real signed token."""
    return {"Authorization": f"Bearer {signed_token(entra.base_url, keys[0], str(uuid.uuid4()))}"}


def assert_error_shape(reply, status: int, code: str | None = None) -> dict:
    """The contract: that status, JSON, exactly {"error": {"code", "message", "details"?}} and no trace."""
    assert reply.status == status, reply.body
    assert reply.headers["Content-Type"].startswith("application/json")
    body = reply.json()
    assert set(body) == {"error"}
    assert {"code", "message"} <= set(body["error"]) <= {"code", "message", "details"}
    assert isinstance(body["error"]["code"], str) and isinstance(body["error"]["message"], str)
    if code is not None:
        assert body["error"]["code"] == code
    assert b"Traceback" not in reply.body and b'File "' not in reply.body
    assert reply.headers.get("X-Request-ID")
    return body["error"]


def test_malformed_json_is_400(server, user):
    reply = server.request("POST", "/api/jobs", b'{"skill": ', {**user, "Content-Type": "application/json"})
    assert_error_shape(reply, 400, "malformed_json")


@pytest.mark.parametrize("body", [b'{"skill": "summarize_document", "input": {"document": "x", "n": NaN}}',
                                  b'{"skill": "summarize_document", "input": {"document": "x"}, "n": -Infinity}',
                                  b'{"skill": "summarize_document", "input": {"document": "\xff"}}'])  # fmt: skip
def test_nan_infinity_and_undecodable_bytes_are_malformed_json(server, user, body):
    """JSON has no NaN or Infinity (Python's parser reads them; PostgreSQL would refuse to store them: a 500)."""
    reply = server.request("POST", "/api/jobs", body, {**user, "Content-Type": "application/json"})
    assert_error_shape(reply, 400, "malformed_json")


def test_a_json_value_that_is_not_an_object_is_400(server, user):
    reply = server.request("POST", "/api/jobs", b"null", {**user, "Content-Type": "application/json"})
    assert_error_shape(reply, 400, "bad_request")


def test_wrong_content_type_is_415(server, user):
    reply = server.request("POST", "/api/jobs", b"skill=summarize", {**user, "Content-Type": "text/plain"})
    assert_error_shape(reply, 415, "unsupported_media_type")


@pytest.mark.parametrize(
    ("path", "limit"), [("/api/skills/summarize/invoke", BODY_LIMIT), ("/api/jobs", JOB_BODY_LIMIT)]
)
def test_a_body_over_the_limit_is_413(server, user, path, limit):
    body = json.dumps({"skill": "summarize_document", "input": {"text": "x" * (2 * limit)}}).encode()
    reply = server.request("POST", path, body, {**user, "Content-Type": "application/json"})
    assert_error_shape(reply, 413, "payload_too_large")


def test_a_much_larger_body_still_gets_the_413_answer_not_a_broken_pipe(server, user):
    # gunicorn closes the connection after answering; without draining, a client still sending 8 MB sees EPIPE.
    body = json.dumps({"input": {"text": "x" * 8_000_000}}).encode()
    reply = server.request("POST", "/api/skills/summarize/invoke", body, {**user, "Content-Type": "application/json"})
    assert_error_shape(reply, 413, "payload_too_large")


def test_a_job_body_over_the_request_limit_but_under_the_job_limit_is_accepted_for_checking(server, user):
    body = json.dumps({"skill": "summarize_document", "input": {"text": "x" * (2 * BODY_LIMIT)}}).encode()
    reply = server.request("POST", "/api/jobs", body, {**user, "Content-Type": "application/json"})
    assert_error_shape(reply, 422, "invalid_input")  # read and checked against the skill's schema, not refused


@pytest.mark.parametrize("path", ["/nope", "/api/nope", "/api/skills/summarize/invoke/extra"])
def test_unknown_route_is_404(server, path):
    assert_error_shape(server.request("GET", path), 404, "not_found")


def test_wrong_method_is_405_with_allow(server):
    reply = server.request("DELETE", "/api/openapi.json")
    assert_error_shape(reply, 405, "method_not_allowed")
    allowed = {method.strip() for method in reply.headers["Allow"].split(",")}
    assert "GET" in allowed and "DELETE" not in allowed


def test_missing_token_is_401(server):
    assert_error_shape(server.request("GET", "/api/me"), 401, "unauthorized")


def test_unexpected_exception_is_500_without_trace_and_with_the_request_id(server):
    offset = server.log_size()
    reply = server.request("GET", "/api/_test/explode")
    error = assert_error_shape(reply, 500, "internal_error")
    request_id = reply.headers["X-Request-ID"]
    assert error["details"] == {"request_id": request_id}
    assert b"Nightingale" not in reply.body and b"DeliberateFailure" not in reply.body
    lines = server.log_lines(offset)
    records = [json.loads(line) for line in lines]
    traced = [r for r in records if "tests.live_server.DeliberateFailure" in r.get("exception", "")]
    assert len(traced) == 1 and traced[0]["request_id"] == request_id
    assert traced[0]["level"] == "ERROR"
    trace = traced[0]["exception"]
    # The whole trace is in the log (frames of the failing view, the cause too), but no exception message.
    assert 'File "' in trace and "in explode" in trace and "KeyError" in trace
    assert not any("Nightingale" in line for line in lines), FAILURE_TEXT


def test_no_token_or_document_text_in_bodies_or_logs(server, user, entra, keys):
    offset = server.log_size()
    forged = signed_token(entra.base_url, keys[1], str(uuid.uuid4()))  # signed by a key nobody publishes
    document = json.dumps({"input": {"text": DOCUMENT_TEXT, "document": DOCUMENT_TEXT}}).encode()
    replies = [
        server.request(
            "POST",
            "/api/skills/summarize/invoke",
            document,
            {"Authorization": f"Bearer {forged}", "Content-Type": "application/json"},
        ),
        # Valid token, broken JSON holding the text: the parser's message must not echo the document.
        server.request("POST", "/api/jobs", document[:-3], {**user, "Content-Type": "application/json"}),
        server.request("POST", "/api/jobs", document, {**user, "Content-Type": "text/plain"}),
    ]
    assert [r.status for r in replies] == [401, 400, 415]
    lines = server.log_lines(offset)
    assert len(lines) >= len(replies)
    token = user["Authorization"].removeprefix("Bearer ")
    for secret in (forged, token, DOCUMENT_TEXT, "Nightingale", forged.split(".")[2], token.split(".")[2]):
        for reply in replies:
            assert secret.encode() not in reply.body
        for line in lines:
            assert secret not in line
