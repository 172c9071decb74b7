"""The backend serves the built add-in at /addin/: pages uncached, hashed assets cached for good, nothing outside."""

from __future__ import annotations

import pytest


@pytest.fixture
def dist(tmp_path):
    """A small built add-in: two pages and one hashed asset."""
    folder = tmp_path / "dist"
    (folder / "assets").mkdir(parents=True)
    (folder / "taskpane.html").write_text("<!doctype html><title>Switchboard</title>")
    (folder / "commands.html").write_text("<!doctype html>")
    (folder / "assets" / "taskpane-abc123.js").write_text("console.log('pane')")
    (tmp_path / "secret.txt").write_text("outside the folder")
    return folder


@pytest.fixture
def app_config(app_config, dist):
    """Point the app at the small build."""
    return {**app_config, "ADDIN_DIST_DIR": str(dist)}


def test_root_serves_the_task_pane_uncached(client):
    """/addin/ is taskpane.html, re-validated on every load so a new build is picked up."""
    with client.get("/addin/") as response:  # closing the response closes the file it streams
        assert response.status_code == 200
        assert b"<title>Switchboard</title>" in response.data
        assert response.headers["Cache-Control"] == "no-cache"
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_bare_path_redirects_to_the_folder(client):
    """Relative asset URLs need the trailing slash."""
    response = client.get("/addin")
    assert response.status_code == 308
    assert response.headers["Location"].endswith("/addin/")


def test_hashed_assets_are_immutable(client):
    """Vite's content-hashed bundles can be cached for a year."""
    with client.get("/addin/assets/taskpane-abc123.js") as response:
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"


@pytest.mark.parametrize("path", ["/addin/../secret.txt", "/addin/%2e%2e/secret.txt", "/addin/missing.html"])
def test_nothing_outside_the_build_is_served(client, path):
    """Traversal and unknown files are 404 in the contract's error shape."""
    response = client.get(path)
    assert response.status_code == 404
    assert b"outside the folder" not in response.data
    assert response.get_json()["error"]["code"] == "not_found"


def test_an_unbuilt_add_in_says_how_to_build_it(app_config, tmp_path):
    """Without a build the answer names the fix instead of a bare 404."""
    from backend import create_app

    app = create_app({**app_config, "ADDIN_DIST_DIR": str(tmp_path / "nothing-here")})
    response = app.test_client().get("/addin/")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "addin_not_built"
