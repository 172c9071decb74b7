"""Serving the built task pane (addin/dist) at /addin/, so production needs no separate web server for it."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, current_app, redirect, send_from_directory

from backend.errors import ApiError

bp = Blueprint("addin_static", __name__)

# Vite names bundles by content hash: they can be cached for good; the HTML pages must be re-read to pick up new ones.
IMMUTABLE_PREFIX = "assets/"
ONE_YEAR = 365 * 24 * 3600


def dist_folder() -> Path:
    """The built add-in: ADDIN_DIST_DIR when configured, else addin/dist in the source tree."""
    configured = current_app.config.get("ADDIN_DIST_DIR")
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[2] / "addin" / "dist"


@bp.get("/addin")
def addin_root() -> Response:
    """Send /addin to /addin/ so the pane's relative asset URLs resolve."""
    return redirect("/addin/", code=308)


@bp.get("/addin/")
@bp.get("/addin/<path:filename>")
def addin_file(filename: str = "taskpane.html") -> Response:
    """One file of the built pane; send_from_directory refuses paths that leave the folder."""
    folder = dist_folder()
    if not (folder / "taskpane.html").is_file():
        message = "The add-in has not been built: run `npm ci && npm run build` in addin/."
        raise ApiError(404, "addin_not_built", message)
    immutable = filename.startswith(IMMUTABLE_PREFIX) and not filename.endswith(".map")
    response = send_from_directory(folder, filename, max_age=ONE_YEAR if immutable else 0)
    if immutable:
        response.headers["Cache-Control"] = f"public, max-age={ONE_YEAR}, immutable"
    else:
        response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
