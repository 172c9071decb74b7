"""Shared fixtures: an app on a fresh SQLite database per test, and its test client."""

from __future__ import annotations

import pytest

from backend import create_app
from backend.database import Base
from backend.extensions import db


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
