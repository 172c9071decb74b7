"""The sentinel sweep can fail: each variant below reintroduces one plausible leak into an interactive flow of
tests/test_privacy_sweep.py, and the sweep must report it where it lands. (Metrics are not planted: the Prometheus
registry is process-wide, and a planted label would stay.)"""

from __future__ import annotations

import logging

import pytest

from tests.auth_fixtures import TENANT_A, bearer, entra, make_token, signing_key, stranger_key, tenants  # noqa: F401
from tests.privacy_support import Sweep, app_config, assert_leak_reported, leak_provider_messages, sweep  # noqa: F401
from tests.test_invoke import servers  # noqa: F401
from tests.test_privacy_sweep import (
    admin_sets_a_key,
    bad_bearer_tokens,
    client_chosen_ids_carry_the_document,
    every_model_fails,
    invoke_succeeds,
    provider_rejects_the_prompt,
)


def log_the_prompt(sweep: Sweep, monkeypatch) -> None:
    """The dispatcher logs the prompt at DEBUG."""
    from backend import dispatch

    real = dispatch.count_prompt_tokens

    def leaky(texts):
        """Count, after logging what is counted."""
        logging.getLogger("backend.dispatch").debug("counting the prompt %s", texts)
        return real(texts)

    monkeypatch.setattr(dispatch, "count_prompt_tokens", leaky)


def audit_the_key(sweep: Sweep, monkeypatch) -> None:
    """The audit log keeps each change's request body, unredacted."""
    from flask import request

    from backend.admin import audit

    real = audit.record

    def leaky(tenant_id, actor, action, target="", before=None, after=None):
        """Record the body that made the change as its `after`."""
        real(tenant_id, actor, action, target, before, request.get_json())

    monkeypatch.setattr(audit, "redact", lambda value: value)
    monkeypatch.setattr(audit, "record", leaky)


def log_the_authorization_header(sweep: Sweep, monkeypatch) -> None:
    """A request hook logs the Authorization header at DEBUG."""
    from flask import request

    sweep.app.before_request(
        lambda: logging.getLogger("backend").debug("auth %s", request.headers.get("Authorization"))
    )


def log_the_path_as_sent(sweep: Sweep, monkeypatch) -> None:
    """The access line shows the request's path as the client sent it."""
    from flask import request

    from backend import logs

    monkeypatch.setattr(logs, "access_path", lambda: request.path)


LEAKY_VARIANTS = [  # (the leak, a flow where it shows, [(the report's start, a word of the sink)...])
    (
        leak_provider_messages,
        every_model_fails,
        [("document in response", "body"), ("document in table", "skill_runs")],
    ),
    (leak_provider_messages, provider_rejects_the_prompt, [("tenant_key in response", "body")]),
    (log_the_prompt, invoke_succeeds, [("document in log record", "backend.dispatch")]),
    (audit_the_key, admin_sets_a_key, [("tenant_key in GET /api/admin/audit", ""), ("tenant_key in table", "audit")]),
    (log_the_authorization_header, bad_bearer_tokens, [("expired token in log record", "backend")]),
    (log_the_path_as_sent, client_chosen_ids_carry_the_document, [("document in log record", "switchboard.access")]),
]


@pytest.mark.parametrize(
    ("leak", "flow", "expected"),
    LEAKY_VARIANTS,
    ids=[f"{leak.__name__}-{flow.__name__}" for leak, flow, _ in LEAKY_VARIANTS],
)
def test_the_sweep_reports_a_deliberate_leak(sweep, monkeypatch, leak, flow, expected):  # noqa: F811
    assert_leak_reported(sweep, monkeypatch, leak, flow, expected)
