"""Shared fixtures: an app on a fresh SQLite database per test, and its test client."""

from __future__ import annotations

import pytest

from backend import create_app
from backend.database import Base
from backend.extensions import db
from tests.fakes.common import silent_listener
from tests.postgres import throwaway_database, throwaway_schema


@pytest.fixture
def app_config(tmp_path) -> dict:
    """Configuration of a test app; tests extend it before the app fixture builds the app."""
    return {
        "TESTING": True,
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'switchboard.sqlite'}",
        "SECRET_KEY": "test-secret-key-with-enough-entropy-0123456789",
        "LOG_JSON": True,
    }


@pytest.fixture
def app(app_config):
    """An app whose schema exists."""
    app = create_app(app_config)
    with app.app_context():
        Base.metadata.create_all(db.engine)
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def client(app):
    """A test client of the app."""
    return app.test_client()


def add_tenant_with_user(tenant_id: str = "t1", user_id: str = "u1", object_id: str = "o1") -> None:
    """Inside an app context: a tenant (Contoso) and one of its users, committed."""
    from backend.models import Tenant, User

    db.session.add(Tenant(id=tenant_id, name="Contoso"))
    db.session.flush()
    db.session.add(User(id=user_id, tenant_id=tenant_id, object_id=object_id))
    db.session.commit()


@pytest.fixture
def owner(app) -> tuple[str, str]:
    """A tenant and a user: ("t1", "u1")."""
    with app.app_context():
        add_tenant_with_user()
    return "t1", "u1"


def pytest_collection_modifyitems(items) -> None:
    """Mark every test that uses a PostgreSQL database `postgres`, so `-m "not postgres"` deselects it."""
    for item in items:
        if "postgres_url" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.postgres)


@pytest.fixture(scope="session")
def postgres_session_database():
    """URL of a PostgreSQL database made for this test session and dropped at its end; fails (never skips) if down."""
    with throwaway_database() as url:
        yield url


@pytest.fixture
def postgres_url(postgres_session_database):
    """URL of a fresh, empty PostgreSQL database for this test (a schema of its own in the session's database)."""
    with throwaway_schema(postgres_session_database) as url:
        yield url


@pytest.fixture
def app_pg(app_config, postgres_url):
    """Like `app`, on PostgreSQL: an app whose schema exists in a database of its own."""
    app = create_app({**app_config, "DATABASE_URL": postgres_url})
    with app.app_context():
        Base.metadata.create_all(db.engine)
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def each_backend_url(request, tmp_path) -> str:
    """A fresh, empty database URL, once per backend: parametrizes a test over SQLite and PostgreSQL."""
    if request.param == "postgresql":
        return request.getfixturevalue("postgres_url")
    return f"sqlite:///{tmp_path / 'each-backend.sqlite'}"


@pytest.fixture(scope="session")
def sdks_loaded() -> None:
    """The provider SDKs and SK connectors imported, as a worker preloads them: a timing test that runs first in its
    process must measure the call, not seconds of first imports inside its timed window."""
    from backend.providers import preload_sdks

    preload_sdks()


@pytest.fixture
def silent_port():
    """A loopback port that accepts TCP connections and then never says a word (a hung server)."""
    with silent_listener() as port:
        yield port
