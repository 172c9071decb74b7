"""Structured logs: one JSON object per line with the request id, checked on the output of `switchboard run`."""

from __future__ import annotations

import json
import logging
import re
import sys
import urllib.parse

import pytest

from backend.logs import JsonFormatter, PlainFormatter
from tests.fakes.entra import FakeEntra
from tests.live_server import LiveServer

pytestmark = pytest.mark.slow  # one server for the module: a few seconds to boot
GENERATED_ID = re.compile(r"[0-9a-f]{32}")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`switchboard run` with two gthread workers, its output in a file."""
    with FakeEntra() as entra:
        live = LiveServer.start(tmp_path_factory.mktemp("logging-server"), entra.base_url)
        yield live
        live.stop()


def test_every_line_written_during_requests_is_json_with_that_request_id(server):
    offset = server.log_size()
    replies = [
        server.request("GET", "/api/openapi.json"),
        server.request("GET", "/api/me"),  # 401: auth logs its refusal
        server.request("GET", "/api/me", headers={"Authorization": "Bearer not-a-jwt"}),
        server.request("GET", "/no/such/route"),
        server.request("DELETE", "/metrics"),
        server.request("GET", "/api/jobs/1234"),
    ]
    request_ids = {reply.headers["X-Request-ID"] for reply in replies}
    assert len(request_ids) == len(replies)
    lines = server.log_lines(offset)
    assert len(lines) >= len(replies)
    records = [json.loads(line) for line in lines]  # fails on any line that is not JSON
    for record in records:
        assert {"time", "level", "logger", "message"} <= set(record)
        assert record["request_id"] in request_ids, record
    access = [record for record in records if record["logger"] == "switchboard.access"]
    assert {record["request_id"] for record in access} == request_ids
    assert {(r["method"], r["path"], r["status"]) for r in access} >= {("GET", "/no/such/route", 404)}


@pytest.mark.parametrize("supplied", ["abcdefgh", "client-42.retry_1", "A" * 64])
def test_a_safe_client_request_id_is_echoed_and_logged(server, supplied):
    offset = server.log_size()
    reply = server.request("GET", "/api/openapi.json", headers={"X-Request-ID": supplied})
    assert reply.headers["X-Request-ID"] == supplied
    records = [json.loads(line) for line in server.log_lines(offset)]
    assert [r["request_id"] for r in records if r["logger"] == "switchboard.access"] == [supplied]


@pytest.mark.parametrize(
    "supplied",
    ["A" * 65, "short", 'x" "level": "CRITICAL', "abc def ghi", "{injected:json}", "id/with/slashes"],
)
def test_an_unsafe_client_request_id_is_replaced(server, supplied):
    offset = server.log_size()
    reply = server.request("GET", "/api/openapi.json", headers={"X-Request-ID": supplied})
    replaced = reply.headers["X-Request-ID"]
    assert replaced != supplied and GENERATED_ID.fullmatch(replaced)
    lines = server.log_lines(offset)
    assert [json.loads(line)["request_id"] for line in lines] == [replaced]
    assert supplied not in "".join(lines)


@pytest.mark.parametrize("supplied", ["abcdefgh\n", "abcdefgh\r\nX-Evil: 1", "abcdefgh\n{}"])
def test_a_request_id_with_line_breaks_is_replaced(client, supplied):
    # Real HTTP cannot carry these (the header would end at the line break), so the WSGI environ is set directly:
    # a proxy or another server in front may still hand them over.
    reply = client.get("/api/openapi.json", environ_overrides={"HTTP_X_REQUEST_ID": supplied})
    assert GENERATED_ID.fullmatch(reply.headers["X-Request-ID"])


def access_paths(server, offset: int) -> list[str]:
    """The paths of the access lines written since `offset`."""
    records = [json.loads(line) for line in server.log_lines(offset)]
    return [record["path"] for record in records if record["logger"] == "switchboard.access"]


# Client-chosen URL parts that look like no id: a pasted sentence, a key, a megabyte-long run, a control character.
PASTED = ["Merger terms of Project Heron: 41 million", "sk-Live-Heron-0123456789abcdef", "heron" * 400, "heron\x07"]


@pytest.mark.parametrize("pasted", PASTED, ids=["sentence", "key", "long", "control"])
@pytest.mark.parametrize(
    ("method", "template", "logged"),
    [
        ("POST", "/api/skills/{}/invoke", "/api/skills/<skill_id>/invoke"),
        ("GET", "/api/jobs/{}", "/api/jobs/<job_id>"),
        ("POST", "/api/admin/providers/{}/test", "/api/admin/providers/<name>/test"),
        ("POST", "/api/skills/{}/then/more", "/api/skills/<withheld>/then/more"),  # no route: each segment is checked
        ("GET", "/api/skills/{}/invoke", "/api/skills/<withheld>/invoke"),  # 405: no route for the method either
    ],
)
def test_a_url_part_that_looks_like_no_id_is_logged_by_its_name(server, method, template, logged, pasted):
    offset = server.log_size()
    reply = server.request(method, template.format(urllib.parse.quote(pasted)))
    assert reply.status in (401, 404, 405)
    assert access_paths(server, offset) == [logged]
    lines = "".join(server.log_lines(offset))
    assert "Heron" not in lines and "heron" not in lines


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/skills/no_such_skill/invoke"),
        ("POST", "/api/skills/summarize/invoke"),
        ("GET", f"/api/jobs/{'0a' * 16}"),
        ("POST", "/api/admin/providers/our-gpu.1/test"),
        ("GET", "/api/no/route"),
    ],
)
def test_a_url_part_that_looks_like_an_id_is_logged_as_sent(server, method, path):
    offset = server.log_size()
    server.request(method, path)
    assert access_paths(server, offset) == [path]


def test_the_formatter_writes_extra_fields_and_the_trace_on_one_line():
    secret = "boom-" + "document-text"  # built at run time: the source line shown in the trace does not hold it
    try:
        raise ValueError(secret)
    except ValueError:
        record = logging.LogRecord("switchboard.test", logging.ERROR, __file__, 1, "failed %s", ("once",), None)
        record.exc_info = sys.exc_info()
    record.request_id = "req-12345678"
    record.status = 500
    line = JsonFormatter().format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["message"] == "failed once" and entry["request_id"] == "req-12345678" and entry["status"] == 500
    assert entry["level"] == "ERROR" and "ValueError: (message withheld)" in entry["exception"]
    assert "test_the_formatter_writes_extra_fields" in entry["exception"] and secret not in line


def test_exception_messages_are_withheld_in_plain_text_logs_too():
    secret = "secret-" + "document-text"
    try:
        try:
            raise KeyError(secret)
        except KeyError as missing:
            raise RuntimeError(f"while reading {secret}") from missing
    except RuntimeError:
        exc_info = sys.exc_info()
    record = logging.LogRecord("switchboard.test", logging.ERROR, __file__, 1, "failed", (), exc_info)
    record.request_id = None
    text = PlainFormatter("%(message)s").format(record)
    assert secret not in text
    assert text.index("KeyError") < text.index("RuntimeError")  # the cause first, as Python prints it
