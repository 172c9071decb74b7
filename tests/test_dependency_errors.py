"""The database or Redis not answering is a 503 the caller may retry (`dependency_unavailable`), never a 500."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import OperationalError

from tests.auth_fixtures import TENANT_A, bearer, entra, make_token, signing_key, tenants  # noqa: F401
from tests.fakes.common import closed_port_url
from tests.test_invoke import providers_config, servers  # noqa: F401


@pytest.fixture
def app_config(app_config, entra, servers, tmp_path, monkeypatch):  # noqa: F811
    """The invoke tests' providers, with rate limits and circuits in a Redis that nobody runs."""
    redis_url = closed_port_url().replace("http://", "redis://") + "/0"
    return {**providers_config(app_config, entra, servers, tmp_path, monkeypatch), "REDIS_URL": redis_url}


@pytest.mark.parametrize("accept", ["application/json", "text/event-stream"])
def test_redis_down_answers_503_dependency_unavailable(client, make_token, tenants, accept):  # noqa: F811
    user = bearer(make_token(TENANT_A, "0b1c2d3e-0000-4000-8000-000000000001"))
    response = client.post(
        "/api/skills/summarize/invoke", json={"input": {"text": "A short text."}}, headers={**user, "Accept": accept}
    )
    assert response.status_code == 503, response.get_data(as_text=True)
    assert response.get_json()["error"]["code"] == "dependency_unavailable"
    assert response.headers["Retry-After"] == "5"


def test_a_database_that_does_not_answer_is_503(app, client, make_token, tenants, monkeypatch):  # noqa: F811
    from backend.auth import identity

    def unreachable(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, ConnectionRefusedError("connection refused"))

    monkeypatch.setattr(identity, "_tenant_status", unreachable, raising=True)
    response = client.get("/api/me", headers=bearer(make_token(TENANT_A, "0b1c2d3e-0000-4000-8000-000000000001")))
    assert response.status_code == 503 and response.get_json()["error"]["code"] == "dependency_unavailable"
