"""The sentinel sweep over the interactive flows (the harness and its sinks: tests/privacy_support.py; jobs:
tests/test_privacy_sweep_jobs.py).

Flows: invoke (JSON and SSE) succeeding; every model failing; a provider 400 (and 401) whose error body quotes the
prompt (or the key); a stream cut mid-way and an in-stream error quoting the prompt; a structured answer still invalid
after its repair; the Excel skills on sentinel cells; 422 and 400 input failures with the sentinel in the offending
field (job submissions refused included); 413 input_too_large; 429 rate_limited and budget_exhausted; admin PATCH
with a provider key, 422s with the key in an invalid entry or pasted into the wrong field, the provider connection
test; invalid, expired and foreign bearer tokens; the document where a client chooses an id (a skill, job or provider
id in the URL, the X-Request-ID header, a job's idempotency key).

That the sweep can fail (each plausible leak reintroduced is reported): tests/test_privacy_sweep_can_fail.py.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.parse
import uuid

import pytest
from sqlalchemy import text

from backend.extensions import db
from tests.auth_fixtures import TENANT_A, bearer, entra, make_token, signing_key, stranger_key, tenants  # noqa: F401
from tests.fakes import Fault
from tests.privacy_support import (  # noqa: F401
    DOC,
    DOCUMENT,
    SENTINEL_RANGE,
    SHEET,
    TENANT_KEY,
    Sweep,
    app_config,
    assert_leak_reported,
    error_events,
    leak_provider_messages,
    sweep,
)
from tests.test_invoke import REPLY, servers  # noqa: F401

# -- the flows -----------------------------------------------------------------------------------------------------


def invoke_succeeds(sweep: Sweep) -> None:
    """JSON and SSE answers on the tenant's own key, then a fallback to the other SDK."""
    sweep.use_tenant_key()
    for stream in (False, True):
        response = sweep.invoke("summarize", {"text": DOCUMENT, "instructions": f"mention {DOC}"}, stream)
        assert response.status_code == 200
        assert "event: done" in response.get_data(as_text=True) if stream else response.get_json()["output"] == REPLY
    sweep.servers[0].fail_next(1, Fault.server_error(500))
    response = sweep.invoke("summarize", {"text": DOCUMENT}, stream=True)
    assert json.loads(response.get_data(as_text=True).split("data: ", 1)[1].split("\n")[0])["model"]["provider"] == (
        "claude"
    )
    with sweep.app.app_context():
        runs = db.session.execute(text("SELECT count(*) FROM skill_runs")).scalar()
    assert runs == 3


def every_model_fails(sweep: Sweep) -> None:
    """all_models_failed, JSON and SSE, each provider's error body quoting the prompt."""
    for stream in (False, True):
        sweep.servers[0].fail_next(1, Fault.http_status(503, message=f"overloaded while reading: {DOCUMENT}"))
        sweep.servers[1].fail_next(1, Fault.http_status(529, message=f"overloaded while reading: {DOCUMENT}"))
        response = sweep.invoke("summarize", {"text": DOCUMENT}, stream)
        assert response.status_code in (502, 503)
        assert response.get_json()["error"]["code"] == "all_models_failed"


def provider_rejects_the_prompt(sweep: Sweep) -> None:
    """A 400 whose body quotes the prompt, from each provider (JSON and SSE), and a 401 quoting the tenant's key."""
    sweep.use_tenant_key()
    quoted = f"Invalid request: the prompt '{DOCUMENT}' contains a disallowed phrase"
    for stream in (False, True):
        sweep.servers[0].fail_next(1, Fault.http_status(400, message=quoted))
        response = sweep.invoke("summarize", {"text": DOCUMENT}, stream)
        assert response.get_json()["error"]["code"] == "provider_rejected_request"
    sweep.call("PATCH", "/api/admin/tenant", sweep.admin, json={"routing": {"mode": "quality"}})
    for stream in (False, True):
        sweep.servers[1].fail_next(1, Fault.http_status(400, message=quoted))
        response = sweep.invoke("summarize", {"text": DOCUMENT}, stream)
        assert response.get_json()["error"]["code"] == "provider_rejected_request"
    sweep.call("PATCH", "/api/admin/tenant", sweep.admin, json={"routing": {"mode": "cost"}})
    sweep.servers[0].fail_next(1, Fault.http_status(401, message=f"Incorrect API key provided: {TENANT_KEY}"))
    response = sweep.invoke("summarize", {"text": DOCUMENT})
    assert response.get_json()["error"]["code"] == "provider_auth_failed"


def stream_breaks_midway(sweep: Sweep) -> None:
    """A connection cut after some text, and an in-stream error event quoting the prompt, from each provider."""
    sweep.servers[0].script(fault=Fault.cut_after(5))
    sweep.servers[0].script(fault=Fault.error_event(5, status=400, message=f"content filter: {DOCUMENT}"))
    for _ in range(2):
        body = sweep.invoke("summarize", {"text": DOCUMENT}, stream=True).get_data(as_text=True)
        assert [e["code"] for e in error_events(body)] == ["stream_interrupted"]
    sweep.call("PATCH", "/api/admin/tenant", sweep.admin, json={"routing": {"mode": "quality"}})
    sweep.servers[1].script(fault=Fault.error_event(5, status=400, message=f"content filter: {DOCUMENT}"))
    body = sweep.invoke("summarize", {"text": DOCUMENT}, stream=True).get_data(as_text=True)
    assert [e["code"] for e in error_events(body)] == ["stream_interrupted"]


def structured_answer_stays_invalid(sweep: Sweep) -> None:
    """invalid_model_output: answers that are not JSON, or JSON of the wrong shape, quoting the document."""
    not_json = f"Sure! The edits for '{DOCUMENT}' are: none"
    wrong_shape = json.dumps({"edits": [{"original": DOC, "replacement": 7, "reason": DOC}], DOC: DOCUMENT})
    for reply in (not_json, wrong_shape):
        for stream in (False, True):
            sweep.servers[0].script(reply=reply, times=2)
            response = sweep.invoke("proofread", {"text": DOCUMENT}, stream)
            assert response.status_code == 502
            assert response.get_json()["error"]["code"] == "invalid_model_output"
    sweep.servers[0].script(reply=json.dumps({"formula": f'=SUM("{DOC}"', "explanation": DOC}), times=2)
    response = sweep.invoke("write_formula", {"instructions": f"add up {DOC}", "target_cell": "B2"})
    assert response.get_json()["error"]["code"] == "invalid_model_output"


def excel_skills_run_on_sentinel_cells(sweep: Sweep) -> None:
    """Every Excel skill on a range full of the sentinel: the answers (not structured: repaired, then refused) and
    their errors, and the statistics computed in Python, hold none of it outside the answer."""
    sweep.servers[0].default_reply = f"The column {'Amount'} sums to 41."
    for skill, data in [
        ("analyze_range", {"range": SENTINEL_RANGE, "instructions": f"look at {DOC}"}),
        ("clean_data", {"range": SENTINEL_RANGE}),
        ("text_to_table", {"range": SENTINEL_RANGE}),
        ("explain_formula", {"range": SENTINEL_RANGE}),
        ("explain_formula", {"formula": f'=VLOOKUP("{DOC}", {SHEET}!A1:C3, 3, FALSE) + ((('}),
        ("write_formula", {"instructions": f"total of {DOC}", "range": SENTINEL_RANGE, "target_cell": f"{SHEET}!D2"}),
    ]:
        for stream in (False, True):
            response = sweep.invoke(skill, data, stream)
            assert response.status_code in (200, 502), (skill, response.get_data(as_text=True))


def refusals_by_limits(sweep: Sweep) -> None:
    """429 rate_limited and budget_exhausted, with the document in the refused request."""
    limits = {"rate_limits": {"user_requests_per_minute": 1}, "budgets": {"user_monthly_usd": 0.000001}}
    assert sweep.call("PATCH", "/api/admin/tenant", sweep.admin, json=limits).status_code == 200
    codes = {sweep.invoke("summarize", {"text": DOCUMENT}, stream).get_json()["error"]["code"] for stream in (0, 1)}
    assert codes == {"budget_exhausted", "rate_limited"}, codes


def input_is_refused(sweep: Sweep) -> None:
    """422s with the sentinel in the offending field, 400s around a body holding it, and the 413s."""
    refused = [
        ("summarize", {"text": DOCUMENT, "length": DOC}, 422),
        ("summarize", {"text": DOCUMENT, "instructions": DOCUMENT * 100}, 422),
        ("summarize", {"text": [DOCUMENT], "sensitivity": DOC}, 422),
        ("proofread", {"text": {DOC: DOCUMENT}}, 422),
        ("ask", {"instructions": "what?", "history": [{"role": DOC, "content": DOC, DOC: DOCUMENT}]}, 422),
        ("ask", {"instructions": "what?", "history": [{"role": "user", "content": DOCUMENT * 400}]}, 422),
        ("analyze_range", {"range": {"address": DOC, "values": DOC, "number_formats": [[DOC * 20]]}}, 422),
        ("summarize", {"text": DOCUMENT * 1000}, 413),
        ("ask", {"instructions": "what?", "history": [{"role": "user", "content": DOCUMENT * 200}] * 4}, 413),
    ]
    for skill, data, status in refused:
        for stream in (False, True):
            response = sweep.invoke(skill, data, stream)
            assert response.status_code == status, (skill, response.get_data(as_text=True))
    headers = {**sweep.user, "Content-Type": "application/json"}
    malformed = [
        f'{{"input": {{"text": "{DOC}"',  # cut short
        f'{{"input": "{DOC}"}}',  # not an object
        f'{{"input": {{"text": "{DOC}"}}, "options": "{DOC}"}}',  # options not an object
        f'{{"input": {{"text": "{DOC}", "n": NaN}}}}',  # not JSON
    ]
    for raw in malformed:
        assert sweep.call("POST", "/api/skills/summarize/invoke", headers, data=raw).status_code == 400
    too_big = json.dumps({"input": {"text": DOCUMENT * 40_000}})
    assert sweep.call("POST", "/api/skills/summarize/invoke", headers, data=too_big).status_code == 413
    sweep.call("PATCH", "/api/admin/tenant", sweep.admin, json={"rate_limits": {"user_tokens_per_minute": 50}})
    response = sweep.invoke("summarize", {"text": DOCUMENT * 10})
    assert response.status_code == 413 and response.get_json()["error"]["details"]["limit"] == "user_tokens_per_minute"
    jobs = [
        {"skill": "summarize_document", "input": {"document": DOCUMENT, "length": DOC}},
        {"skill": "summarize_document", "input": {"drive_item": {"drive_id": DOC + "/..", "item_id": DOC}}},
        {"skill": "summarize_document", "input": {"document": DOCUMENT}, "options": DOC},
        {"skill": DOC, "input": {"document": DOCUMENT}},
    ]
    for body in jobs:
        assert sweep.call("POST", "/api/jobs", sweep.user, json=body).status_code in (400, 404, 422)


def admin_sets_a_key(sweep: Sweep) -> None:
    """PATCH with a provider key (narrowing and a provider of the tenant's own), read back, audited, used, tested."""
    sweep.app.config["ALLOWED_MODEL_HOSTS"] = ["127.0.0.1"]
    own = {"name": "mine", "type": "openai", "base_url": sweep.servers[0].base_url, "api_key": TENANT_KEY,
           "models": [{"id": "gpt-test", "context_window": 32000, "location": "on-prem"}]}  # fmt: skip
    patch = {"providers": [{"name": "cheap", "api_key": TENANT_KEY}, own]}
    response = sweep.call("PATCH", "/api/admin/tenant", sweep.admin, json=patch)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert all(p["api_key_set"] for p in response.get_json()["providers"])
    sweep.servers[0].api_key = TENANT_KEY
    sweep.call("GET", "/api/admin/tenant", sweep.admin)
    sweep.call("GET", "/api/admin/catalog", sweep.admin)
    assert sweep.invoke("summarize", {"text": DOCUMENT}).status_code == 200
    assert sweep.call("POST", "/api/admin/providers/mine/test", sweep.admin).get_json()["ok"] is True
    sweep.servers[0].fail_next(1, Fault.http_status(401, message=f"Incorrect API key provided: {TENANT_KEY}"))
    tested = sweep.call("POST", "/api/admin/providers/cheap/test", sweep.admin).get_json()
    assert (tested["ok"], tested["error"]) == (False, "auth")
    # The key changed again, then cleared: both audited, neither value shown.
    patch = {"providers": [{"name": "cheap", "api_key": TENANT_KEY + "-2"}, {**own, "api_key": None}]}
    assert sweep.call("PATCH", "/api/admin/tenant", sweep.admin, json=patch).status_code == 200
    sweep.secrets["tenant_key_2"] = TENANT_KEY + "-2"
    events = sweep.call("GET", "/api/admin/audit", sweep.admin).get_json()["events"]
    assert [e["action"] for e in events].count("settings.providers") == 2


def admin_key_in_an_invalid_entry(sweep: Sweep) -> None:
    """422s where the key travels in an entry that is refused: nothing stored, audited, echoed or logged."""
    model = {"id": "gpt-test", "context_window": 32000}
    entries = [
        {
            "name": "mine",
            "type": "openai",
            "base_url": "https://not-allowed.example/v1",
            "api_key": TENANT_KEY,
            "models": [model],
        },  # fmt: skip
        {
            "name": "mine",
            "type": "openai",
            "base_url": f"https://user:{TENANT_KEY}@127.0.0.1/v1",
            "api_key": TENANT_KEY,
            "models": [model],
        },  # fmt: skip
        {"name": "mine", "type": "openai", "api_key": TENANT_KEY, "models": [model], "apikey": TENANT_KEY},
        {"name": "mine", "type": "openai", "api_key": TENANT_KEY, "models": []},
        {"name": "mine", "type": "openai", "api_key": TENANT_KEY * 200, "models": [model]},
        {"name": "cheap", "api_key": TENANT_KEY, "models": [{"id": "gpt-test", "price_per_million": {"input": -1}}]},
        {"name": "mine", "type": "nope", "api_key": TENANT_KEY, "models": [model]},
        {"name": f"Mine {TENANT_KEY}", "type": "openai", "api_key": TENANT_KEY, "models": [model]},
    ]
    sweep.app.config["ALLOWED_MODEL_HOSTS"] = ["127.0.0.1"]
    for entry in entries:
        response = sweep.call("PATCH", "/api/admin/tenant", sweep.admin, json={"providers": [entry]})
        assert response.status_code == 422, response.get_data(as_text=True)
        assert response.get_json()["error"]["code"] == "invalid_settings"
    events = sweep.call("GET", "/api/admin/audit", sweep.admin).get_json()["events"]
    assert events == []


def admin_pastes_a_key_into_the_wrong_field(sweep: Sweep) -> None:
    """422s whose field would be echoed if anything were: a base_url's host, lists of names, pins, a property the
    schema does not know."""
    pasted_host = "sk-pasted-sentinel-kiwi-4402"  # hosts are compared in lower case
    sweep.secrets["key pasted as a host"] = pasted_host
    own = {"name": "mine", "type": "openai", "base_url": f"https://{pasted_host}.example/v1", "api_key": TENANT_KEY,
           "models": [{"id": "gpt-test", "context_window": 32000}]}  # fmt: skip
    patches = [
        {"providers": [own]},
        {"providers": [{"name": "cheap", "allowed_models": [TENANT_KEY]}]},
        {"disabled_skills": [TENANT_KEY]},
        {"data_policy": {"confidential": {"providers": [TENANT_KEY]}}},
        {"routing": {"pins": {"summarize": [f"cheap/{TENANT_KEY}"]}}},
        {"routing": {"pins": {TENANT_KEY: [7]}}},
        {TENANT_KEY: "on\0prem"},
    ]
    for patch in patches:
        response = sweep.call("PATCH", "/api/admin/tenant", sweep.admin, json=patch)
        assert response.status_code == 422, response.get_data(as_text=True)
        assert response.get_json()["error"]["code"] == "invalid_settings"
    assert sweep.call("GET", "/api/admin/audit", sweep.admin).get_json()["events"] == []


def client_chosen_ids_carry_the_document(sweep: Sweep) -> None:
    """The document where a client chooses an id: a skill, job or provider id in the URL (within one segment, and
    across segments no route matches), the X-Request-ID header, and a job's idempotency key."""
    pasted = urllib.parse.quote(DOCUMENT)
    for path in (f"/api/skills/{pasted}/invoke", f"/api/skills/{pasted}/{pasted}/invoke"):
        assert sweep.call("POST", path, sweep.user, json={"input": {"text": "Hello."}}).status_code == 404
    assert sweep.call("GET", f"/api/jobs/{pasted}", sweep.user).status_code == 404
    assert sweep.call("POST", f"/api/jobs/{pasted}/cancel", sweep.user).status_code == 404
    assert sweep.call("POST", f"/api/admin/providers/{pasted}/test", sweep.admin).status_code == 404
    assert sweep.call("GET", "/api/me", {**sweep.user, "X-Request-ID": DOCUMENT}).status_code == 200
    job = {"skill": "summarize_document", "input": {"document": "A short text."}, "idempotency_key": DOCUMENT}
    assert sweep.call("POST", "/api/jobs", sweep.user, json=job).status_code == 422


def bad_bearer_tokens(sweep: Sweep) -> None:
    """Expired, foreign-signed, wrong-audience, unknown-kid and malformed tokens: 401, and none of them logged."""
    make_token = sweep.make_token
    past = int(time.time()) - 7200
    oid = str(uuid.uuid4())
    tokens = {
        "expired token": make_token(TENANT_A, oid, iat=past - 3600, nbf=past - 3600, exp=past),
        "foreign-signed token": make_token(TENANT_A, oid, key=sweep.stranger_key),
        "wrong-audience token": make_token(TENANT_A, oid, aud="api://someone-else"),
        "unknown-kid token": make_token(TENANT_A, oid, kid="kid-nobody-published"),
        "malformed token": f"Sentinel-Token-{DOC}.not-a-jwt",
    }
    for name, token in tokens.items():
        sweep.secrets[name] = token
        if token.count(".") == 2 and len(token.rsplit(".", 1)[1]) > 20:
            sweep.secrets[f"{name} signature"] = token.rsplit(".", 1)[1]
        for path in ("/api/me", "/api/skills/summarize/invoke", "/api/admin/tenant"):
            method = "POST" if path.endswith("invoke") else "GET"
            response = sweep.call(method, path, bearer(token), json={"input": {"text": DOCUMENT}})
            assert response.status_code == 401, (name, response.get_data(as_text=True))
    assert sweep.call("GET", "/api/me", sweep.user).status_code == 200


FLOWS = [
    invoke_succeeds,
    every_model_fails,
    provider_rejects_the_prompt,
    stream_breaks_midway,
    structured_answer_stays_invalid,
    excel_skills_run_on_sentinel_cells,
    refusals_by_limits,
    input_is_refused,
    admin_sets_a_key,
    admin_key_in_an_invalid_entry,
    admin_pastes_a_key_into_the_wrong_field,
    client_chosen_ids_carry_the_document,
    bad_bearer_tokens,
]


@pytest.mark.parametrize("flow", FLOWS, ids=[flow.__name__ for flow in FLOWS])
def test_no_sentinel_reaches_a_sink(sweep, flow):
    flow(sweep)
    sweep.assert_clean()
