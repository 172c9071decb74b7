"""WSGI entry point for gunicorn: `gunicorn -c backend/gunicorn_conf.py backend.wsgi:app`."""

from backend import create_app
from backend.auth import warn_unusable_token_settings

app = create_app()
warn_unusable_token_settings(app)  # in the server's log, where tokens are validated
