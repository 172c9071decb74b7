"""Configuration order (defaults, instance file, SWITCHBOARD_* environment) and imports free of side effects."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from backend import create_app
from backend.config import DEFAULTS

REPOSITORY = Path(__file__).resolve().parents[1]


@pytest.fixture
def operator_env(tmp_path, monkeypatch) -> Path:
    """An environment holding no SWITCHBOARD_* variable but the instance folder; returns that folder."""
    for name in list(os.environ):
        if name.startswith("SWITCHBOARD_"):
            monkeypatch.delenv(name)
    instance = tmp_path / "instance"
    instance.mkdir()
    monkeypatch.setenv("SWITCHBOARD_INSTANCE_PATH", str(instance))
    return instance


def test_defaults_apply_without_file_or_environment(operator_env):
    app = create_app()
    assert app.instance_path == str(operator_env)
    assert app.config["MAX_CONTENT_LENGTH"] == DEFAULTS["MAX_CONTENT_LENGTH"]
    assert app.config["LOG_LEVEL"] == DEFAULTS["LOG_LEVEL"]
    assert app.config["ALLOWED_MODEL_HOSTS"] == []
    assert app.config["DATABASE_URL"] == f"sqlite:///{operator_env / 'switchboard.sqlite'}"
    assert app.config["BROKER_URL"].startswith("sqla+sqlite:///") and str(operator_env) in app.config["BROKER_URL"]
    # The generated secret key is kept in the instance folder, readable by the owner only, and reused.
    key_file = operator_env / "secret_key"
    assert app.config["SECRET_KEY"] == key_file.read_text().strip() and len(app.config["SECRET_KEY"]) >= 32
    assert key_file.stat().st_mode & 0o077 == 0
    assert create_app().config["SECRET_KEY"] == app.config["SECRET_KEY"]


@pytest.mark.postgres
def test_a_postgresql_url_without_a_driver_uses_the_installed_psycopg2(operator_env, monkeypatch, postgres_url):
    # SQLAlchemy 2.1 reads a bare postgresql:// as psycopg 3, which is not installed: the usual URL would not start.
    bare = postgres_url.replace("postgresql+psycopg2://", "postgresql://", 1)
    monkeypatch.setenv("SWITCHBOARD_DATABASE_URL", bare)
    monkeypatch.setenv("SWITCHBOARD_RESULT_BACKEND", "db+" + bare.replace("postgresql://", "postgres://", 1))
    app = create_app()
    assert app.config["DATABASE_URL"] == postgres_url
    assert app.config["RESULT_BACKEND"] == "db+" + postgres_url
    with app.app_context():
        from sqlalchemy import text

        from backend.extensions import db

        assert db.engine.dialect.driver == "psycopg2"
        assert db.session.execute(text("select 1")).scalar() == 1
        db.engine.dispose()


def test_the_instance_file_overrides_defaults_and_the_environment_overrides_both(operator_env, monkeypatch):
    (operator_env / "switchboard.cfg").write_text(
        textwrap.dedent(
            """
            MAX_CONTENT_LENGTH = 1234
            LOG_LEVEL = "WARNING"
            JOB_CONCURRENCY = 7
            ALLOWED_MODEL_HOSTS = ["gpu.file.example"]
            """
        )
    )
    from_file = create_app()
    assert from_file.config["MAX_CONTENT_LENGTH"] == 1234
    assert from_file.config["LOG_LEVEL"] == "WARNING"
    assert from_file.config["JOB_CONCURRENCY"] == 7
    assert from_file.config["ALLOWED_MODEL_HOSTS"] == ["gpu.file.example"]

    monkeypatch.setenv("SWITCHBOARD_MAX_CONTENT_LENGTH", "4321")  # JSON-decoded: an int
    monkeypatch.setenv("SWITCHBOARD_LOG_LEVEL", "ERROR")  # not JSON: kept as a string
    monkeypatch.setenv("SWITCHBOARD_ENTRA_ALLOW_HTTP_AUTHORITY", "true")
    from_env = create_app()
    assert from_env.config["MAX_CONTENT_LENGTH"] == 4321
    assert from_env.config["LOG_LEVEL"] == "ERROR"
    assert from_env.config["ENTRA_ALLOW_HTTP_AUTHORITY"] is True
    assert from_env.config["JOB_CONCURRENCY"] == 7  # the file still applies where the environment is silent
    assert from_env.config["ALLOWED_MODEL_HOSTS"] == ["gpu.file.example"]


@pytest.mark.parametrize(
    ("raw", "hosts"),
    [
        ("gpu.internal", ["gpu.internal"]),
        ("gpu1.internal, gpu2.internal:8000,,", ["gpu1.internal", "gpu2.internal:8000"]),
        ('["a.example", "b.example"]', ["a.example", "b.example"]),
        ("10.0.0.5", ["10.0.0.5"]),
        ("", []),
    ],
)
def test_allowed_model_hosts_are_parsed_as_a_list(operator_env, monkeypatch, raw, hosts):
    monkeypatch.setenv("SWITCHBOARD_ALLOWED_MODEL_HOSTS", raw)
    assert create_app().config["ALLOWED_MODEL_HOSTS"] == hosts


@pytest.mark.parametrize("name", ["SECRET_KEY", "SECRET_KEY_FALLBACKS", "ENTRA_CLIENT_SECRET"])
@pytest.mark.parametrize("raw", ["123456789012345678901234567890", "1e10", "true", "null"])
def test_secrets_from_the_environment_are_kept_as_written(operator_env, monkeypatch, name, raw):
    # The environment is JSON-decoded: without care a numeric secret becomes an int and "null" no secret at all.
    monkeypatch.setenv(f"SWITCHBOARD_{name}", raw)
    assert create_app().config[name] == raw


@pytest.mark.parametrize(
    ("raw", "expected"), [("off", False), ("no", False), ("0", False), ("false", False), ("on", True), ("YES", True)]
)
def test_boolean_settings_understand_the_usual_words(operator_env, monkeypatch, raw, expected):
    monkeypatch.setenv("SWITCHBOARD_ENABLE_DIAGNOSTICS", raw)
    app = create_app()
    assert app.config["ENABLE_DIAGNOSTICS"] is expected
    assert ("diagnostics" in app.blueprints) is expected  # "off" must not expose the unauthenticated endpoints


def test_numeric_settings_from_the_instance_file_are_typed(operator_env):
    (operator_env / "switchboard.cfg").write_text("MAX_CONTENT_LENGTH = '2048'\nCIRCUIT_COOLDOWN_SECONDS = '12'\n")
    app = create_app()
    assert app.config["MAX_CONTENT_LENGTH"] == 2048 and app.config["CIRCUIT_COOLDOWN_SECONDS"] == 12.0


@pytest.mark.parametrize(("name", "raw"), [("MAX_CONTENT_LENGTH", "2MB"), ("LOG_JSON", "maybe")])
def test_an_untypable_setting_stops_the_start_with_its_name(operator_env, monkeypatch, name, raw):
    monkeypatch.setenv(f"SWITCHBOARD_{name}", raw)
    with pytest.raises(ValueError, match=name):
        create_app()


def test_test_config_replaces_file_and_environment(operator_env, monkeypatch, tmp_path):
    (operator_env / "switchboard.cfg").write_text("LOG_LEVEL = 'WARNING'\n")
    monkeypatch.setenv("SWITCHBOARD_MAX_CONTENT_LENGTH", "4321")
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path / "other"), "SECRET_KEY": "k" * 40})
    assert app.config["LOG_LEVEL"] == DEFAULTS["LOG_LEVEL"]
    assert app.config["MAX_CONTENT_LENGTH"] == DEFAULTS["MAX_CONTENT_LENGTH"]
    assert app.instance_path == str(tmp_path / "other")


# Imports every backend module in a fresh interpreter with sockets and os.environ instrumented. Connections and name
# lookups fail loudly; environment reads are recorded when the first frame outside os/stdlib is in backend/.
IMPORT_PROBE = textwrap.dedent(
    """
    import collections.abc, importlib, json, os, pkgutil, socket, sys, traceback

    WATCHED = sys.argv[1] + os.sep  # the package folder whose own reads count
    ENTRY_POINTS = {"backend.wsgi", "backend.worker", "backend.cli.__main__"}  # they build the app by design
    STDLIB_MAPPING = (os.sep + "os.py", os.sep + "_collections_abc.py")  # frozen copies are named "<frozen ...>"
    events = []

    def reader():
        frame = sys._getframe(2)
        while frame and (frame.f_code.co_filename.startswith("<") or frame.f_code.co_filename.endswith(STDLIB_MAPPING)):
            frame = frame.f_back
        return frame.f_code.co_filename if frame else ""

    class RecordingEnviron(collections.abc.MutableMapping):
        def __init__(self, real):
            self.real = real
        def _note(self, key):
            if reader().startswith(WATCHED):
                events.append(["env", str(key), reader()])
        def __getitem__(self, key):
            self._note(key)
            return self.real[key]
        def __contains__(self, key):
            self._note(key)
            return key in self.real
        def __setitem__(self, key, value):
            self.real[key] = value
        def __delitem__(self, key):
            del self.real[key]
        def __iter__(self):
            self._note("*")
            return iter(self.real)
        def __len__(self):
            return len(self.real)
        def copy(self):
            self._note("*")
            return dict(self.real)

    def refuse(kind):
        def blocked(*args, **kwargs):
            events.append([kind, repr(args)[:200], "".join(traceback.format_stack(limit=6))])
            raise OSError(f"{kind} during import")
        return blocked

    socket.socket.connect = refuse("connect")
    socket.socket.connect_ex = refuse("connect")
    socket.getaddrinfo = refuse("getaddrinfo")
    os.environ = RecordingEnviron(os.environ)

    names = sys.argv[2:]
    if not names:
        import backend
        names = [m.name for m in pkgutil.walk_packages(backend.__path__, "backend.") if m.name not in ENTRY_POINTS]
    for name in names:
        importlib.import_module(name)
    print(json.dumps({"modules": names, "events": events}))
    """
)


@pytest.mark.slow
def test_importing_every_backend_module_connects_nowhere_and_reads_no_environment():
    command = [sys.executable, "-c", IMPORT_PROBE, str(REPOSITORY / "backend")]
    result = subprocess.run(command, cwd=REPOSITORY, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert len(report["modules"]) > 40 and "backend.api.meta" in report["modules"]
    assert report["events"] == []


def test_the_import_probe_catches_a_module_that_reads_the_environment_or_connects(tmp_path):
    # The probe must be able to fail: a throwaway package that reads the environment and connects at import.
    package = tmp_path / "offender"
    package.mkdir()
    (package / "__init__.py").write_text(
        "import os, socket\n"
        "LEVEL = os.environ.get('SWITCHBOARD_LOG_LEVEL')\n"
        "try:\n    socket.create_connection(('127.0.0.1', 9))\nexcept OSError:\n    pass\n"
    )
    command = [sys.executable, "-c", IMPORT_PROBE, str(package), "offender"]
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    result = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-3000:]
    events = json.loads(result.stdout.strip().splitlines()[-1])["events"]
    assert [event[:2] for event in events if event[0] == "env"] == [["env", "SWITCHBOARD_LOG_LEVEL"]]
    assert any(event[0] in ("connect", "getaddrinfo") for event in events)


@pytest.mark.parametrize(
    ("name", "raw", "says"),
    [
        ("JOB_CONCURRENCY", "-1", "greater than 0"),
        ("JOB_CONCURRENCY", "0", "greater than 0"),
        ("JOB_CONCURRENCY", "2.5", "a whole number"),
        ("JOB_CONCURRENCY", "true", "a whole number"),
        ("CIRCUIT_COOLDOWN_SECONDS", "-30", "0 or more"),
        ("HOT_CACHE_SECONDS", "nan", "a number"),
        ("MAX_CONTENT_LENGTH", "-1", "greater than 0"),
    ],
)
def test_a_number_out_of_its_range_stops_the_start_with_its_name(operator_env, monkeypatch, name, raw, says):
    """A negative count, a fraction or a bool where a count is wanted, or 0 where it would stall jobs: refused."""
    from backend.config import ConfigurationError

    monkeypatch.setenv(f"SWITCHBOARD_{name}", raw)
    with pytest.raises(ConfigurationError, match=f"{name} must be {says}"):
        create_app()


@pytest.mark.parametrize(("name", "raw", "expected"), [("JOB_SWEEP_SECONDS", "0", 0.0), ("JOB_CONCURRENCY", "8", 8)])
def test_zero_where_it_means_off_and_whole_numbers_are_kept(operator_env, monkeypatch, name, raw, expected):
    monkeypatch.setenv(f"SWITCHBOARD_{name}", raw)
    value = create_app().config[name]
    assert (value, type(value)) == (expected, type(expected))


BAD_CONFIGURATIONS = {
    "unparsable database URL": ({"DATABASE_URL": "postgres//admin:s3cret-pw@db/switchboard"}, "DATABASE_URL"),
    "database driver missing": ({"DATABASE_URL": "mysql://admin:s3cret-pw@db/switchboard"}, "DATABASE_URL"),
    "database port not a number": ({"DATABASE_URL": "postgresql://admin:s3cret-pw@db:pg/x"}, "DATABASE_URL"),
    "database refusing": ({"DATABASE_URL": "postgresql://admin:s3cret-pw@127.0.0.1:1/x"}, "Connection refused"),
    "unknown auth mode": ({"AUTH_MODE": "entra-id"}, "SWITCHBOARD_AUTH_MODE must be one of entra, dev"),
    "typo'd boolean": ({"LOG_JSON": "ture"}, "LOG_JSON must be a bool"),
    "negative number": ({"JOB_STALE_SECONDS": "-60"}, "JOB_STALE_SECONDS must be greater than 0"),
}
# `run` does not connect to the database (its health check reports one that is down), so it is not asked about that.
RUN_CHECKS = set(BAD_CONFIGURATIONS) - {"database refusing"}


@pytest.fixture
def no_exec(monkeypatch):
    """`switchboard run` must stop before it replaces this process with gunicorn."""

    def refuse(*_args):
        raise AssertionError("switchboard run went on to start gunicorn")

    monkeypatch.setattr("backend.cli.serve.os.execv", refuse)


@pytest.mark.parametrize("case", list(BAD_CONFIGURATIONS))
def test_a_bad_configuration_ends_a_command_with_one_clear_line(operator_env, no_exec, case):
    """Every command, `run` included (it checks before starting gunicorn): exit status 1, `Error: <what>`, no
    traceback, never the password of a URL."""
    from click.testing import CliRunner

    from backend.cli import main

    settings, says = BAD_CONFIGURATIONS[case]
    env = {f"SWITCHBOARD_{key}": value for key, value in settings.items()}
    for argv in (["tenants", "list"], ["run", "--port", "1"]) if case in RUN_CHECKS else (["tenants", "list"],):
        result = CliRunner().invoke(main, argv, env=env)
        assert (result.exit_code, type(result.exception)) == (1, SystemExit), result.output
        assert "Error: " in result.output and says in result.output
        assert "Traceback" not in result.output and "s3cret-pw" not in result.output


PROVIDERS = """
providers:
  - name: openai-main
    type: openai
    api_key_env: SB_TEST_UNSET_OPENAI_KEY
    models:
      - {id: gpt-4.1-mini, context_window: 128000, max_output_tokens: 16384, location: us-east, tier: 2}
"""


def test_a_broken_providers_file_stops_run_and_worker_before_they_start(operator_env, no_exec, tmp_path):
    """Invalid YAML (or a missing file) would fail every call later: `run` and `worker` refuse to start instead."""
    from click.testing import CliRunner

    from backend.cli import main

    broken = tmp_path / "providers.yaml"
    broken.write_text("providers:\n  - name: [unclosed\n")
    for path, says in ((broken, "is not valid YAML"), (tmp_path / "missing.yaml", "No such file")):
        for argv in (["run", "--port", "1"], ["worker"]):
            result = CliRunner().invoke(main, argv, env={"SWITCHBOARD_PROVIDERS_FILE": str(path)})
            assert (result.exit_code, type(result.exception)) == (1, SystemExit), result.output
            assert "Error: SWITCHBOARD_PROVIDERS_FILE: " in result.output and says in result.output


def test_a_key_variable_the_providers_file_names_but_nobody_set_is_reported(tmp_path, monkeypatch):
    """The catalog still loads (other providers work), and names the unset variable, never a value."""
    from backend.catalog import load_providers_file

    monkeypatch.delenv("SB_TEST_UNSET_OPENAI_KEY", raising=False)
    path = tmp_path / "providers.yaml"
    path.write_text(PROVIDERS)
    catalog = load_providers_file(path, {})
    assert list(catalog.providers) == ["openai-main"]
    assert len(catalog.problems) == 1 and "SB_TEST_UNSET_OPENAI_KEY, which is not set" in catalog.problems[0]
    assert load_providers_file(path, {}, environ={"SB_TEST_UNSET_OPENAI_KEY": "sk-set"}).problems == ()


def test_a_misspelt_setting_is_named_with_the_one_it_resembles(operator_env, monkeypatch, caplog):
    """A typo would otherwise leave the server on its defaults (its own SQLite file) without a word."""
    monkeypatch.setenv("SWITCHBOARD_DATABSE_URL", "postgresql://u:secret-pw@db.example/switchboard")
    monkeypatch.setenv("SWITCHBOARD_REDIS_UR", "redis://127.0.0.1:6379/0")
    monkeypatch.setenv("SWITCHBOARD_OPENAI_KEY", "sk-a-key-variable-of-the-providers-file")  # resembles no setting
    caplog.set_level(logging.WARNING, logger="backend.config")
    app = create_app()
    assert app.config["DATABASE_URL"].startswith("sqlite")  # ignored, as the warning says
    warnings = [r.getMessage() for r in caplog.records if r.name == "backend.config"]
    assert warnings == [
        "SWITCHBOARD_DATABSE_URL is not a setting and is ignored: did you mean SWITCHBOARD_DATABASE_URL?",
        "SWITCHBOARD_REDIS_UR is not a setting and is ignored: did you mean SWITCHBOARD_REDIS_URL?",
    ]
    assert "secret-pw" not in " ".join(warnings)


@pytest.mark.parametrize(("key", "warned"), [("changeme", True), ("x" * 31, True), ("x" * 32, False)])
def test_an_operators_secret_key_too_short_to_trust_is_warned_about_never_quoted(
    operator_env, monkeypatch, caplog, key, warned
):
    """It encrypts every stored provider key: `changeme` was accepted without a word."""
    monkeypatch.setenv("SWITCHBOARD_SECRET_KEY", key)
    caplog.set_level(logging.WARNING, logger="backend.config")
    app = create_app()
    assert app.config["SECRET_KEY"] == key  # still used: a warning, not a refusal (a running deployment keeps working)
    warnings = [r.getMessage() for r in caplog.records if r.name == "backend.config"]
    assert [w for w in warnings if "SWITCHBOARD_SECRET_KEY has fewer than 32 characters" in w] == (
        [*warnings] if warned else []
    )
    assert all(key not in w for w in warnings)
