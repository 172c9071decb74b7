"""`switchboard skills list|new|test`: the developer kit's commands."""

from __future__ import annotations

import subprocess
import sys

import pytest
from click.testing import CliRunner
from flask import Flask

from backend import skills as skills_runtime
from backend.cli import main


def test_list_shows_the_built_in_skills():
    """Every built-in skill, one per line; --host filters."""
    result = CliRunner().invoke(main, ["skills", "list"])
    assert result.exit_code == 0, result.output
    ids = [line.split()[0] for line in result.output.splitlines()]
    assert len(ids) == 14 and "proofread" in ids and "analyze_workbook" in ids
    excel = CliRunner().invoke(main, ["skills", "list", "--host", "excel"]).output
    assert "write_formula" in excel and "rewrite" not in excel


def test_list_reports_broken_skills_and_fails(tmp_path):
    """A broken skill is named with its file on stderr; the healthy ones are still listed; exit status 1."""
    runner = CliRunner()
    assert runner.invoke(main, ["skills", "new", "fine", "--dir", str(tmp_path)]).exit_code == 0
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "skill.yaml").write_text("id: broken\n")
    result = runner.invoke(main, ["skills", "list", "--dir", str(tmp_path)])
    assert result.exit_code == 1
    assert result.stdout.startswith("fine ")
    assert f"{tmp_path / 'broken' / 'skill.yaml'}: missing required key" in result.stderr


def test_new_refuses_bad_and_taken_names(tmp_path):
    """Names are identifiers; an existing folder is never overwritten."""
    runner = CliRunner()
    assert runner.invoke(main, ["skills", "new", "Bad-Name", "--dir", str(tmp_path)]).exit_code != 0
    assert runner.invoke(main, ["skills", "new", "taken", "--dir", str(tmp_path)]).exit_code == 0
    again = runner.invoke(main, ["skills", "new", "taken", "--dir", str(tmp_path)])
    assert again.exit_code != 0 and "already exists" in again.output


@pytest.mark.slow
def test_new_skills_pass_their_own_tests_unchanged_and_load_in_the_app(tmp_path):
    """Both hosts and kinds: the scaffold's tests pass as written (run by `skills test`), and the app lists them."""
    runner = CliRunner()
    for name, host, kind in [("notes", "word", "prompt"), ("sheet_check", "excel", "native")]:
        result = runner.invoke(main, ["skills", "new", name, "--host", host, "--kind", kind, "--dir", str(tmp_path)])
        assert result.exit_code == 0, result.output
    completed = subprocess.run(
        [sys.executable, "-c", "from backend.cli import main; main()", "skills", "test", "--dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "2 passed" in completed.stdout
    app = Flask(__name__)
    app.config["SKILLS_DIR"] = str(tmp_path)
    skills_runtime.init_app(app)
    registry = app.extensions["skills"]
    assert registry.errors == []
    assert [s.spec.public()["id"] for s in registry.for_host()] == ["notes", "sheet_check"]


def test_the_skills_folder_comes_from_switchboard_skills_dir_like_the_servers(tmp_path, monkeypatch):
    """With SWITCHBOARD_SKILLS_DIR set (what the server loads), new, list and test work on that folder; the hint
    printed after `new --dir` names the folder again so the command it suggests finds the skill."""
    monkeypatch.setattr("backend.skills.loader.default_skills_dir", lambda: tmp_path / "not_this_one")
    runner = CliRunner(env={"SWITCHBOARD_SKILLS_DIR": str(tmp_path)})
    created = runner.invoke(main, ["skills", "new", "from_env"])
    assert created.exit_code == 0, created.output
    assert (tmp_path / "from_env" / "skill.yaml").is_file()
    listed = runner.invoke(main, ["skills", "list"])
    assert [line.split()[0] for line in listed.output.splitlines()] == ["from_env"]
    hinted = CliRunner().invoke(main, ["skills", "new", "hinted", "--dir", str(tmp_path)])
    assert f"switchboard skills test hinted --dir {tmp_path}" in hinted.output
