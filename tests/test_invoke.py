"""Skills over HTTP end to end: real tokens, the real dispatcher, real providers to the loopback fake servers."""

from __future__ import annotations

import json
import textwrap

import pytest
from sqlalchemy import select, text

from backend.extensions import db
from backend.metering.budgets import budgets_for
from backend.models import SkillRun
from tests.auth_fixtures import TENANT_A, bearer, entra, entra_app_config, make_token, signing_key, tenants  # noqa: F401
from tests.fakes import FakeAnthropic, FakeOpenAI, Fault
from tests.fakes.harness import TEST_KEY, write_two_providers

REPLY = "Revenue grew four percent.\nCosts stayed flat across the quarter, and the outlook for next year is steady."
SECRET_TEXT = "Project Nightingale acquisition price is 41 million"


@pytest.fixture
def servers():
    """A cheap OpenAI-style model and a dearer, better Anthropic one."""
    with FakeOpenAI(default_reply=REPLY, api_key=TEST_KEY) as openai, FakeAnthropic(default_reply=REPLY) as claude:
        yield openai, claude


@pytest.fixture
def app_config(app_config, entra, servers, tmp_path, monkeypatch):  # noqa: F811
    """The loopback-Entra configuration plus a providers file naming both fakes."""
    return providers_config(app_config, entra, servers, tmp_path, monkeypatch)


def providers_config(app_config, entra, servers, tmp_path, monkeypatch) -> dict:  # noqa: F811
    """The loopback-Entra configuration plus a providers file naming both fakes (for other test modules too)."""
    openai, claude = servers
    monkeypatch.setenv("TEST_FAKE_KEY", TEST_KEY)
    providers = write_two_providers(
        tmp_path / "providers.yaml", openai, claude, context=32000, cheap_output=8192, claude_output=4096, first_token=3
    )
    return {**entra_app_config(app_config, entra), "PROVIDERS_FILE": str(providers)}


@pytest.fixture
def user(make_token, tenants):  # noqa: F811
    """Headers of an ordinary user of tenant A."""
    return bearer(make_token(TENANT_A, "0b1c2d3e-0000-4000-8000-000000000001"))


@pytest.fixture
def admin(make_token, tenants):  # noqa: F811
    """Headers of a tenant admin of tenant A."""
    return bearer(make_token(TENANT_A, "0b1c2d3e-0000-4000-8000-000000000002", roles=["Tenant.Admin"]))


def sse_events(body: bytes) -> list[tuple[str, dict]]:
    """Parse an SSE body into (event, data) pairs, skipping comments."""
    events = []
    for block in body.decode().split("\n\n"):
        lines = [line for line in block.splitlines() if line and not line.startswith(":")]
        if not lines:
            continue
        name = next(line[7:] for line in lines if line.startswith("event: "))
        data = "\n".join(line[6:] for line in lines if line.startswith("data: "))
        events.append((name, json.loads(data)))
    return events


def invoke(client, headers, skill="summarize", stream=False, **fields):
    """POST an invoke of a skill with the given input fields."""
    accept = "text/event-stream" if stream else "application/json"
    payload = {"input": {"text": SECRET_TEXT, **fields}}
    return client.post(f"/api/skills/{skill}/invoke", json=payload, headers={**headers, "Accept": accept})


def test_skills_are_listed_per_host(client, user):
    word = {s["id"] for s in client.get("/api/skills?host=word", headers=user).get_json()["skills"]}
    excel = {s["id"] for s in client.get("/api/skills?host=excel", headers=user).get_json()["skills"]}
    assert {"summarize", "rewrite", "proofread", "translate", "draft", "ask"} <= word
    assert {"explain_formula", "write_formula", "analyze_range", "clean_data", "text_to_table"} <= excel
    assert not word & {"explain_formula", "write_formula"}


def test_json_answer_names_the_cheapest_model_and_meters_it(app, client, user, servers):
    response = invoke(client, user)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["output"] == REPLY
    assert body["model"] == {"provider": "cheap", "model": "gpt-test", "location": "us-east"}
    assert body["usage"]["input_tokens"] > 0 and body["usage"]["output_tokens"] > 0
    assert body["usage"]["cost_usd"] > 0
    with app.app_context():
        run = db.session.scalars(select(SkillRun).where(SkillRun.id == body["run_id"])).one()
        assert (run.skill_id, run.model, run.outcome) == ("summarize", "gpt-test", "succeeded")
        assert run.input_tokens == body["usage"]["input_tokens"]
        # No document text anywhere in the metering table.
        rows = db.session.execute(text("SELECT * FROM skill_runs")).all()
        assert "Nightingale" not in repr(rows)
    # The document travelled spotlighted, in the user role only.
    sent = servers[0].requests[-1].body["messages"]
    assert all("Nightingale" not in m["content"] for m in sent if m["role"] == "system")


def test_stream_sends_meta_deltas_then_done(client, user):
    response = invoke(client, user, stream=True)
    assert response.status_code == 200
    assert response.mimetype == "text/event-stream"
    events = sse_events(response.data)
    names = [name for name, _ in events]
    assert names[0] == "meta" and names[-1] == "done" and names.count("done") == 1
    assert set(names[1:-1]) == {"delta"} and len(names) > 3
    assert "".join(data["text"] for name, data in events if name == "delta") == events[-1][1]["output"] == REPLY
    assert events[0][1]["model"]["provider"] == "cheap"


def test_fallback_before_first_token_reports_the_model_that_answered(client, user, servers):
    servers[0].fail_next(1, Fault.server_error(500))
    events = sse_events(invoke(client, user, stream=True).data)
    assert events[0][0] == "meta" and events[0][1]["model"]["provider"] == "claude"
    assert events[-1][1]["output"] == REPLY


def test_stream_cut_after_text_ends_with_error_and_no_duplicates(client, user, servers):
    servers[0].script(fault=Fault.cut_after(12))
    events = sse_events(invoke(client, user, stream=True).data)
    names = [name for name, _ in events]
    assert names[-1] == "error" and events[-1][1]["code"] == "stream_interrupted"
    assert "done" not in names
    streamed = "".join(data["text"] for name, data in events if name == "delta")
    assert REPLY.startswith(streamed) and streamed  # a prefix, never repeated text
    assert len(servers[1].requests) == 0  # no silent retry on another model


def test_every_model_failing_answers_all_models_failed(client, user, servers):
    servers[0].fail_next(1, Fault.server_error(503))
    servers[1].fail_next(1, Fault.overloaded())
    response = invoke(client, user)
    assert response.status_code in (502, 503)
    error = response.get_json()["error"]
    assert error["code"] == "all_models_failed"
    assert [a["model"] for a in error["details"]["attempts"]] == ["cheap/gpt-test", "claude/claude-test"]
    assert TEST_KEY not in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("skill", "payload", "status", "code"),
    [
        ("nope", {"text": "x"}, 404, "unknown_skill"),
        ("summarize", {"length": "short"}, 422, None),
        ("summarize", {"text": "x", "length": "epic"}, 422, None),
        ("summarize", {"text": "x" * 70_000}, 413, None),
        ("summarize_document", {"document": "x"}, 409, "use_a_job"),
    ],
)
def test_bad_input_gets_a_clear_error(client, user, skill, payload, status, code):
    response = client.post(f"/api/skills/{skill}/invoke", json={"input": payload}, headers=user)
    assert response.status_code == status
    error = response.get_json()["error"]
    assert error["message"]
    if code:
        assert error["code"] == code


@pytest.mark.parametrize("options", [5, "fast", ["a"]])
def test_options_that_are_not_an_object_are_400(client, user, options):
    body = {"input": {"text": SECRET_TEXT}, "options": options}
    response = client.post("/api/skills/summarize/invoke", json=body, headers=user)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_request"


def test_admin_routing_change_moves_the_next_run_to_the_best_model(client, user, admin):
    assert invoke(client, user).get_json()["model"]["provider"] == "cheap"
    response = client.patch("/api/admin/tenant", json={"routing": {"mode": "quality"}}, headers=admin)
    assert response.status_code == 200, response.get_json()
    assert invoke(client, user).get_json()["model"]["provider"] == "claude"


def test_disabled_skill_is_hidden_and_refused(client, user, admin):
    assert client.patch("/api/admin/tenant", json={"disabled_skills": ["summarize"]}, headers=admin).status_code == 200
    listed = {s["id"] for s in client.get("/api/skills?host=word", headers=user).get_json()["skills"]}
    assert "summarize" not in listed
    assert invoke(client, user).status_code == 403


def test_rate_limit_answers_429_with_retry_after(client, user, admin):
    changed = client.patch("/api/admin/tenant", json={"rate_limits": {"user_requests_per_minute": 2}}, headers=admin)
    assert changed.status_code == 200, changed.get_json()
    assert invoke(client, user).status_code == 200
    assert invoke(client, user).status_code == 200
    refused = invoke(client, user)
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 30  # 2 a minute: one is freed every 30 s


def test_a_request_over_the_token_rate_limit_answers_413(client, user, admin):
    changed = client.patch("/api/admin/tenant", json={"rate_limits": {"user_tokens_per_minute": 50}}, headers=admin)
    assert changed.status_code == 200, changed.get_json()
    refused = invoke(client, user)
    assert refused.status_code == 413 and "Retry-After" not in refused.headers
    error = refused.get_json()["error"]
    assert (error["code"], error["details"]["limit"], error["details"]["max"]) == (
        "input_too_large", "user_tokens_per_minute", 50)  # fmt: skip
    assert error["details"]["size"] > 50


def test_exhausted_budget_answers_budget_exhausted(client, user, admin):
    changed = client.patch("/api/admin/tenant", json={"budgets": {"user_monthly_usd": 0.000001}}, headers=admin)
    assert changed.status_code == 200, changed.get_json()
    refused = invoke(client, user)
    assert refused.status_code == 429
    assert refused.get_json()["error"]["code"] == "budget_exhausted"
    assert "Retry-After" in refused.headers


def test_structured_skill_repairs_one_invalid_answer(client, user, servers):
    servers[0].script(reply="Sure! Here are the edits: none")
    servers[0].script(
        reply=json.dumps(
            {"edits": [{"original": "acquisition", "replacement": "acquisition's", "reason": "possessive"}]}
        )
    )
    response = invoke(client, user, skill="proofread")
    assert response.status_code == 200, response.get_json()
    edits = response.get_json()["output"]["edits"]
    assert edits[0]["original"] == "acquisition" and SECRET_TEXT[edits[0]["start"] : edits[0]["end"]] == "acquisition"
    assert response.get_json()["usage"]["input_tokens"] > 0
    assert len(servers[0].requests) == 2


def test_a_client_leaving_mid_stream_is_metered_for_what_was_generated(app, client, user):
    """The provider reports usage only at the end of a stream: a client that leaves is still charged what the model
    generated (estimated), and the budget hold is settled, not left reserved."""
    payload = {"input": {"text": SECRET_TEXT}}
    headers = {**user, "Accept": "text/event-stream"}
    response = client.post("/api/skills/summarize/invoke", json=payload, headers=headers, buffered=False)
    body = iter(response.response)
    assert next(body).startswith(b"event: meta")
    assert b"event: delta" in next(body)
    response.close()  # what the WSGI server does when the client has gone
    with app.app_context():
        db.session.expire_all()
        run = db.session.scalars(select(SkillRun)).one()
        assert (run.outcome, run.model) == ("cancelled", "gpt-test")
        assert run.input_tokens > 0 and run.output_tokens > 0 and run.cost_usd > 0
        usage = budgets_for(app).usage(run.tenant_id)
        assert usage["reserved_usd"] == 0 and usage["spent_usd"] >= run.cost_usd > 0


LONG_REPLY = " ".join(f"w{n}" for n in range(1500))  # 1,500 fake tokens: past summarize's 1,024 and proofread's 2,048


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("provider", ["cheap", "claude"])
def test_an_answer_cut_at_the_output_limit_says_so(client, user, servers, stream, provider):
    openai, claude = servers
    if provider == "claude":
        openai.fail_next(1, Fault.server_error(500))  # the OpenAI-style model fails first: Anthropic answers
        claude.script(reply=LONG_REPLY)
    else:
        openai.script(reply=LONG_REPLY)
    response = invoke(client, user, stream=stream)
    assert response.status_code == 200
    done = sse_events(response.data)[-1][1] if stream else response.get_json()
    assert done["model"]["provider"] == provider
    assert done["truncated"] is True
    assert done["usage"]["output_tokens"] == 1024
    assert done["output"].split() == LONG_REPLY.split()[:1024]


@pytest.mark.parametrize("stream", [False, True])
def test_a_complete_answer_is_not_truncated(client, user, stream):
    response = invoke(client, user, stream=stream)
    done = sse_events(response.data)[-1][1] if stream else response.get_json()
    assert done["output"] == REPLY and done["truncated"] is False


def test_a_structured_answer_cut_off_is_not_repaired(app, client, user, servers):
    servers[0].script(reply='{"edits": [' + " ".join(['{"original": "a", "replacement": "b"},'] * 1200))
    response = invoke(client, user, skill="proofread")
    assert response.status_code == 502
    error = response.get_json()["error"]
    assert error["code"] == "output_truncated" and error["details"] == {"max_output_tokens": 2048}
    assert "Nightingale" not in json.dumps(error)
    assert len(servers[0].requests) == 1  # no repair call: it would be cut off the same way
    with app.app_context():
        run = db.session.scalars(select(SkillRun).where(SkillRun.skill_id == "proofread")).one()
        assert run.outcome == "succeeded" and run.output_tokens == 2048  # the call itself was answered, and metered


def test_a_repair_cut_off_is_output_truncated(client, user, servers):
    servers[0].script(reply="Sure! Here are the edits: none")
    servers[0].script(reply='{"edits": [' + " ".join(['{"original": "a", "replacement": "b"},'] * 1200))
    response = invoke(client, user, skill="proofread", stream=True)
    assert response.status_code == 502
    assert response.get_json()["error"]["code"] == "output_truncated"
    assert len(servers[0].requests) == 2


def test_a_long_time_to_first_token_sends_keepalive_comments_then_the_answer(app_config, user, servers):
    """A proxy cuts a connection idle for long (often 60 s): while the model thinks, keepalive comments flow."""
    from backend import create_app

    servers[0].script(fault=Fault.stall(0.6))
    client = create_app({**app_config, "STREAM_KEEPALIVE_SECONDS": 0.1}).test_client()
    response = invoke(client, user, stream=True)
    assert response.status_code == 200
    body = response.get_data()
    assert body.startswith(b": keepalive\n\n") and body.count(b": keepalive") >= 3
    events = sse_events(body)
    assert [name for name, _ in events][0] == "meta" and events[-1][0] == "done"
    assert "".join(data["text"] for name, data in events if name == "delta") == events[-1][1]["output"]
