"""/metrics counts the web process's model calls by provider kind, platform model and outcome, with their timings:
real invokes through the dispatcher to the fake providers, read back from the exposition text."""

from __future__ import annotations

import time

import pytest
from prometheus_client.parser import text_string_to_metric_families

from backend.catalog.parsing import PROVIDER_TYPES
from backend.metering.call_metrics import ATTEMPT_ERRORS, CALL_ERRORS
from tests.auth_fixtures import entra, make_token, signing_key, tenants  # noqa: F401
from tests.fakes import Fault
from tests.fakes.harness import TEST_KEY
from tests.test_invoke import admin, invoke, providers_config, servers, sse_events, user  # noqa: F401

CHEAP = {"kind": "openai", "model": "cheap/gpt-test"}
CLAUDE = {"kind": "anthropic", "model": "claude/claude-test"}
CALLS, ATTEMPTS = "switchboard_model_calls_total", "switchboard_model_attempt_failures_total"
SECONDS, FIRST_TOKEN = "switchboard_model_call_seconds", "switchboard_model_first_token_seconds"


@pytest.fixture
def app_config(app_config, entra, servers, tmp_path, monkeypatch):  # noqa: F811
    """The invoke tests' providers, and loopback allowed as a tenant's own model host."""
    return {**providers_config(app_config, entra, servers, tmp_path, monkeypatch), "ALLOWED_MODEL_HOSTS": ["127.0.0.1"]}


class Scrape:
    """One /metrics body, its samples keyed by (sample name, labels)."""

    def __init__(self, client) -> None:
        response = client.get("/metrics")
        assert response.status_code == 200
        self.text = response.get_data(as_text=True)
        self.samples = {
            (sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(self.text)
            for sample in family.samples
        }

    def value(self, name: str, **labels: str) -> float:
        """A sample's value, 0 when it is not there yet."""
        return self.samples.get((name, tuple(sorted(labels.items()))), 0.0)

    def grown(self, before: Scrape, name: str, **labels: str) -> float:
        """How much a sample grew since an earlier scrape."""
        return self.value(name, **labels) - before.value(name, **labels)

    def label_values(self, prefix: str, label: str) -> set[str]:
        """Every value a label takes in the samples whose name starts with `prefix`."""
        return {
            dict(labels)[label] for name, labels in self.samples if name.startswith(prefix) and label in dict(labels)
        }


def test_an_answered_call_is_counted_ok_with_its_latency(client, user):
    before = Scrape(client)
    started = time.monotonic()
    assert invoke(client, user).status_code == 200
    took = time.monotonic() - started
    after = Scrape(client)
    assert after.grown(before, CALLS, **CHEAP, outcome="ok") == 1
    assert after.grown(before, f"{SECONDS}_count", **CHEAP) == 1
    assert 0 < after.grown(before, f"{SECONDS}_sum", **CHEAP) <= took  # the call, inside the request that made it
    assert after.grown(before, f"{FIRST_TOKEN}_count", **CHEAP) == 0  # a JSON answer has no first token of its own
    assert after.grown(before, ATTEMPTS, **CHEAP, error="server") == 0


def test_a_streamed_call_is_timed_to_its_first_token(client, user):
    before = Scrape(client)
    events = sse_events(invoke(client, user, stream=True).data)
    assert events[-1][0] == "done"
    after = Scrape(client)
    assert after.grown(before, CALLS, **CHEAP, outcome="ok") == 1
    assert after.grown(before, f"{FIRST_TOKEN}_count", **CHEAP) == 1
    first_token = after.grown(before, f"{FIRST_TOKEN}_sum", **CHEAP)
    assert 0 < first_token <= after.grown(before, f"{SECONDS}_sum", **CHEAP)


def test_a_fallback_is_counted_on_the_model_that_answered_and_the_failure_on_the_one_that_failed(client, user, servers):
    before = Scrape(client)
    servers[0].fail_next(1, Fault.server_error(500))
    events = sse_events(invoke(client, user, stream=True).data)
    assert events[0][1]["model"]["provider"] == "claude"
    after = Scrape(client)
    assert after.grown(before, CALLS, **CLAUDE, outcome="fallback") == 1
    assert after.grown(before, ATTEMPTS, **CHEAP, error="server") == 1
    assert after.grown(before, CALLS, **CHEAP, outcome="ok") == 0


def test_a_call_every_model_failed_is_counted_by_its_error_code(client, user, servers):
    before = Scrape(client)
    servers[0].fail_next(1, Fault.server_error(503))
    servers[1].fail_next(1, Fault.overloaded())
    assert invoke(client, user).get_json()["error"]["code"] == "all_models_failed"
    after = Scrape(client)
    assert after.grown(before, CALLS, **CLAUDE, outcome="all_models_failed") == 1  # the last model tried
    assert after.grown(before, ATTEMPTS, **CHEAP, error="server") == 1
    assert after.grown(before, ATTEMPTS, **CLAUDE, error="overloaded") == 1
    assert after.grown(before, f"{SECONDS}_count", **CLAUDE) == 0  # latency is that of answers only


def test_a_stream_cut_after_text_is_counted_interrupted(client, user, servers):
    before = Scrape(client)
    servers[0].script(fault=Fault.cut_after(12))
    assert sse_events(invoke(client, user, stream=True).data)[-1][1]["code"] == "stream_interrupted"
    after = Scrape(client)
    assert after.grown(before, CALLS, **CHEAP, outcome="stream_interrupted") == 1
    assert after.grown(before, f"{FIRST_TOKEN}_count", **CHEAP) == 1  # text did reach the caller


TENANT_NAMES = ("acme-private-gpu", "acme-secret-model", "gpt-acme-finetune")


def own_gpu(servers) -> dict:
    """A tenant's own self-hosted provider at the fake OpenAI server, named as only the tenant would name it."""
    model = {"id": "acme-secret-model", "context_window": 32000, "max_output_tokens": 4096, "location": "on-prem"}
    base = {"name": "acme-private-gpu", "type": "selfhosted", "base_url": servers[0].base_url, "api_key": TEST_KEY}
    return {**base, "models": [model]}


def platform_model_added_by_the_tenant() -> dict:
    """The platform's provider on the platform's key and URL, with a model id the tenant typed in."""
    return {"name": "cheap", "models": [{"id": "gpt-acme-finetune", "context_window": 32000}]}


@pytest.mark.parametrize(
    ("providers", "routing", "kind"),
    [
        (own_gpu, {"mode": "selfhosted_first"}, "selfhosted"),
        (
            lambda servers: platform_model_added_by_the_tenant(),
            {"mode": "pinned", "pins": {"summarize": ["cheap/gpt-acme-finetune"]}},
            "openai",
        ),
    ],
    ids=["own-provider", "model-id-added-to-a-platform-provider"],
)
def test_a_tenants_own_model_is_labelled_tenant_never_by_its_names(client, user, admin, servers, providers, routing,
                                                                   kind):  # fmt: skip
    settings = {"providers": [providers(servers)], "routing": routing}
    changed = client.patch("/api/admin/tenant", json=settings, headers=admin)
    assert changed.status_code == 200, changed.get_json()
    before = Scrape(client)
    answer = invoke(client, user)
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["model"]["model"] in TENANT_NAMES
    after = Scrape(client)
    assert after.grown(before, CALLS, kind=kind, model="tenant", outcome="ok") == 1
    assert not any(name in after.text for name in TENANT_NAMES)


def test_every_label_stays_within_its_bounded_set(client, user, servers):
    """Whatever ran before in this process: kinds, models, outcomes and errors only ever take these values."""
    servers[0].fail_next(1, Fault.server_error(500))
    invoke(client, user)
    scrape = Scrape(client)
    assert scrape.label_values("switchboard_model_", "kind") <= set(PROVIDER_TYPES) | {"other", "none"}
    assert scrape.label_values(CALLS, "outcome") <= {"ok", "fallback", "other_error"} | CALL_ERRORS
    assert scrape.label_values(ATTEMPTS, "error") <= ATTEMPT_ERRORS | {"other"}
    models = scrape.label_values("switchboard_model_", "model")
    assert {"cheap/gpt-test", "claude/claude-test"} <= models
    assert all(model in ("tenant", "none") or "/" in model for model in models)
