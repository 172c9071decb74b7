"""How CLI commands reach the app: built once per command invocation from the operator's configuration."""

from __future__ import annotations

from flask import Flask


def cli_app() -> Flask:
    """The app built from the instance file and SWITCHBOARD_* environment variables."""
    from backend import create_app

    return create_app()
