"""Configuration: embedded defaults, then the instance file, then SWITCHBOARD_* environment variables."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask

from backend.database import with_installed_driver

ENV_PREFIX = "SWITCHBOARD"
CONFIG_WARNINGS = "switchboard.config_warnings"  # app.extensions key: what load_config found amiss, logged later
# An operator's SWITCHBOARD_SECRET_KEY shorter than this is easy to guess (the generated one has 64 characters): it
# encrypts every stored provider key.
MIN_SECRET_KEY_CHARS = 32
INSTANCE_CONFIG_FILE = "switchboard.cfg"
# Secrets are text whatever they look like: the environment is otherwise JSON-decoded ("123" -> 123, "null" -> None).
TEXT_SECRETS = ("SECRET_KEY", "SECRET_KEY_FALLBACKS", "ENTRA_CLIENT_SECRET")

# Every key an operator may set. Values here are the embedded single-machine defaults; URLs that depend on the
# instance folder are filled in by `fill_instance_defaults` because the folder is only known once the app exists.
DEFAULTS: dict[str, object] = {
    "DATABASE_URL": None,
    "BROKER_URL": None,
    "RESULT_BACKEND": None,
    "REDIS_URL": None,
    "SECRET_KEY": None,
    "SECRET_KEY_FALLBACKS": [],  # previous secret keys, still accepted after a rotation (comma-separated in the env)
    "AUTH_MODE": "entra",
    "AUTH_DEV_FORCE": False,
    "ENTRA_CLIENT_ID": None,
    "ENTRA_CLIENT_SECRET": None,
    "ENTRA_APP_ID_URI": None,
    "ENTRA_AUTHORITY": "https://login.microsoftonline.com",
    "ENTRA_ALLOW_HTTP_AUTHORITY": False,
    "ENTRA_HTTP_TIMEOUT_SECONDS": 5,
    "ENTRA_CONSENT_REDIRECT_URI": None,
    "AUTH_LEEWAY_SECONDS": 60,
    "AUTH_DEV_KEY_FILE": None,
    "AUTH_DEV_TENANT_ID": "00000000-0000-4000-8000-000000000001",
    "JWKS_REFETCH_COOLDOWN_SECONDS": 30,
    "JWKS_MAX_AGE_SECONDS": 3600,
    "ONBOARDING_DEFAULT_STATUS": "pending",
    "GRAPH_HTTP_TIMEOUT_SECONDS": 30.0,
    "GRAPH_BASE_URL": "https://graph.microsoft.com",
    "PROVIDERS_FILE": None,
    "ALLOWED_MODEL_HOSTS": [],
    "OUTPUT_LINK_HOSTS": [],  # links to these hosts may stay in answers shown in the task pane
    "SKILLS_DIR": None,  # default: the repository's skills/
    "ADDIN_DIST_DIR": None,  # the built add-in served at /addin/; default: the repository's addin/dist
    "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
    "HOT_CACHE_SECONDS": 2.0,  # per-process caches of tenant status, users, settings, catalog; 0 turns them off
    "LOG_LEVEL": "INFO",
    "LOG_JSON": True,
    "CELERY_POLL_INTERVAL": 0.5,
    "SQLALCHEMY_ECHO": False,
    "ENABLE_DIAGNOSTICS": False,  # test-only, unauthenticated /api/_diagnostics endpoints (tests, benchmarks)
    # Routing and accounting (backend/catalog, backend/routing, backend/metering).
    "SELFHOSTED_GPU_HOUR_USD": 0.0,  # what one GPU hour of the self-hosted model costs; 0 = free
    "SELFHOSTED_TOKENS_PER_SECOND": 0.0,  # measured throughput of that GPU; with the hour cost it prices a token
    "CIRCUIT_FAILURE_THRESHOLD": 3,  # consecutive retryable failures that open a model's circuit
    "CIRCUIT_COOLDOWN_SECONDS": 30.0,  # how long an opened circuit stays open before one probe is let through
    "CIRCUIT_PROBE_TIMEOUT_SECONDS": 60.0,  # how long one half-open probe holds the model before another may try
    "CIRCUIT_STATE_CACHE_SECONDS": 1.0,  # how stale another process's circuit change may be seen (0: never cached)
    "BUDGET_HOLD_SECONDS": 3600.0,  # a budget hold never settled (its process died) stops counting 1-2x this later
    "STREAM_KEEPALIVE_SECONDS": 15.0,  # a skill's SSE stream silent this long gets a keepalive comment (proxies)
    "CLIENT_SEND_TIMEOUT_SECONDS": 60.0,  # gevent worker: a client that takes nothing of a write this long is cut off
    "REDIS_KEY_PREFIX": "switchboard:",
    # The bundled local model (backend/localmodel.py): llama.cpp server with the packaged Gemma 3 270M.
    "LOCAL_MODEL_PATH": None,  # a GGUF file; None = the packaged Gemma 3 270M
    "LOCAL_MODEL_CONTEXT": 8192,  # n_ctx: room for every built-in skill's prompt plus its longest answer
    "LOCAL_MODEL_CHAT_FORMAT": "gemma",  # llama.cpp chat template; its fallback (llama-2) makes Gemma answer nothing
    "LOCAL_MODEL_MAX_OUTPUT_TOKENS": 4096,
    "LOCAL_MODEL_STARTUP_TIMEOUT_SECONDS": 120.0,
    "LOCAL_MODEL_HOUR_USD": None,  # what an hour of the machine costs; None = SELFHOSTED_GPU_HOUR_USD
    "LOCAL_MODEL_TOKENS_PER_SECOND": 0.0,  # its throughput; 0 = measured with a short call once it is up
    # Long-running jobs (backend/jobs).
    "JOB_MAX_INPUT_BYTES": 20 * 1024 * 1024,  # largest POST /api/jobs body; the input is stored compressed
    "JOB_RETENTION_DAYS": 30,  # inputs, outputs and steps of a job are purged this long after it was created
    "JOB_CONCURRENCY": 4,  # model calls of one job in flight at once
    "JOB_PROVIDER_CONCURRENCY": 8,  # model calls per provider in flight at once in a worker process, all jobs together
    "JOB_CHUNK_TOKENS": 3000,  # the most document tokens one map call of a job gets
    "JOB_REDUCE_INPUT_TOKENS": 6000,  # the most partial-result tokens one reduce call combines
    "JOB_EVENTS_POLL_SECONDS": 0.5,  # how often GET /api/jobs/{id}/events looks at the job row
    "JOB_EVENTS_MAX_SECONDS": 3600,  # an events stream ends after this long (the client reconnects)
    "JOB_STEP_CALLERS": "backend.jobs.model_calls:job_step_callers",  # "module:function" making step callers
    "JOB_STEP_ATTEMPTS": 3,  # tries of one step through the router before the job fails
    "JOB_RETRY_BACKOFF_SECONDS": 1.0,  # first wait between tries of a step; doubles each time
    "JOB_RATE_LIMIT_MAX_WAIT_SECONDS": 900.0,  # how long one step may wait out rate limits before the job fails
    "JOB_HEARTBEAT_SECONDS": 5.0,  # a running job's worker touches heartbeat_at this often
    "JOB_STALE_SECONDS": 60.0,  # a running job whose heartbeat is older belongs to a dead worker: requeue it
    "JOB_SWEEP_SECONDS": 30.0,  # how often each worker looks for stale jobs (0: never; `switchboard jobs requeue`)
    "JOB_MAX_ATTEMPTS": 3,  # deliveries that may start a job; one more (its worker kept dying) fails it instead
    "JOB_QUEUE": None,  # the Celery queue jobs go to; None = the default queue
}


def misspelt_settings(environ: dict[str, str] | os._Environ) -> list[tuple[str, str]]:
    """SWITCHBOARD_* variables that are no setting but look like one, with the setting they resemble: a typo such as
    SWITCHBOARD_DATABSE_URL would otherwise leave every replica on its own SQLite file without a word. Names that
    resemble no setting (a providers file's api_key_env variables, say) are not reported."""
    import difflib

    known = set(DEFAULTS) | {"INSTANCE_PATH"}
    found = []
    for name in environ:
        key = name.removeprefix(f"{ENV_PREFIX}_")
        if name.startswith(f"{ENV_PREFIX}_") and key not in known:
            close = difflib.get_close_matches(key, known, n=1, cutoff=0.85)
            if close:
                found.append((name, f"{ENV_PREFIX}_{close[0]}"))
    return sorted(found)


def config_warnings(config: Any, environ: dict[str, str] | os._Environ) -> list[str]:
    """What an operator should hear about the settings they gave: misspelt names, a secret key too short to trust."""
    warnings = [
        f"{name} is not a setting and is ignored: did you mean {meant}?" for name, meant in misspelt_settings(environ)
    ]
    key = config.get("SECRET_KEY")
    if isinstance(key, str) and key and len(key) < MIN_SECRET_KEY_CHARS:
        warnings.append(
            f"{ENV_PREFIX}_SECRET_KEY has fewer than {MIN_SECRET_KEY_CHARS} characters: it encrypts the stored "
            "provider keys; generate one with python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"
        )
    return warnings


def load_config(app: Flask, test_config: dict | None) -> None:
    """Fill app.config from defaults, then the instance file and environment, or from test_config in tests."""
    app.config.from_mapping(DEFAULTS)
    if test_config is None:
        app.config.from_pyfile(INSTANCE_CONFIG_FILE, silent=True)
        app.config.from_prefixed_env(ENV_PREFIX)
        for key in TEXT_SECRETS:
            raw = os.environ.get(f"{ENV_PREFIX}_{key}")
            if raw is not None:
                app.config[key] = raw
        app.extensions[CONFIG_WARNINGS] = config_warnings(app.config, os.environ)  # logged once logging is set up
    else:
        app.config.from_mapping(test_config)
    fill_instance_defaults(app)


def fill_instance_defaults(app: Flask) -> None:
    """Point unset storage URLs at files in the instance folder and make sure a secret key exists."""
    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    if not app.config["DATABASE_URL"]:
        app.config["DATABASE_URL"] = f"sqlite:///{instance / 'switchboard.sqlite'}"
    if not app.config["BROKER_URL"]:
        app.config["BROKER_URL"] = f"sqla+sqlite:///{instance / 'celery-broker.sqlite'}"
    if not app.config["RESULT_BACKEND"]:
        app.config["RESULT_BACKEND"] = f"db+sqlite:///{instance / 'celery-results.sqlite'}"
    for key in ("DATABASE_URL", "BROKER_URL", "RESULT_BACKEND"):
        app.config[key] = with_installed_driver(app.config[key])
    for key in ("ALLOWED_MODEL_HOSTS", "OUTPUT_LINK_HOSTS"):
        if isinstance(app.config[key], str):  # from the environment: a comma-separated list
            app.config[key] = [h.strip() for h in app.config[key].split(",") if h.strip()]
    coerce_typed_settings(app)
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = instance_secret_key(instance)


_TRUE_WORDS = {"1", "true", "yes", "on"}
_FALSE_WORDS = {"0", "false", "no", "off", ""}
# Numeric settings where 0 would stall or break what they size (a semaphore of 0, a job never tried, a busy poll);
# every other number may be 0 (often "off") but never negative.
POSITIVE_SETTINGS = frozenset(
    {
        "MAX_CONTENT_LENGTH",
        "CELERY_POLL_INTERVAL",
        "ENTRA_HTTP_TIMEOUT_SECONDS",
        "GRAPH_HTTP_TIMEOUT_SECONDS",
        "BUDGET_HOLD_SECONDS",
        "STREAM_KEEPALIVE_SECONDS",
        "CLIENT_SEND_TIMEOUT_SECONDS",
        "CIRCUIT_FAILURE_THRESHOLD",
        "LOCAL_MODEL_CONTEXT",
        "LOCAL_MODEL_MAX_OUTPUT_TOKENS",
        "LOCAL_MODEL_STARTUP_TIMEOUT_SECONDS",
        "JOB_MAX_INPUT_BYTES",
        "JOB_CONCURRENCY",
        "JOB_PROVIDER_CONCURRENCY",
        "JOB_CHUNK_TOKENS",
        "JOB_REDUCE_INPUT_TOKENS",
        "JOB_EVENTS_POLL_SECONDS",
        "JOB_EVENTS_MAX_SECONDS",
        "JOB_STEP_ATTEMPTS",
        "JOB_HEARTBEAT_SECONDS",
        "JOB_STALE_SECONDS",
        "JOB_MAX_ATTEMPTS",
    }
)


class ConfigurationError(ValueError):
    """A setting the app cannot start with; its message names the setting and never quotes a secret."""


def coerce_typed_settings(app: Flask) -> None:
    """Give boolean and numeric settings their default's type; refuse to start on a value that has none.

    The environment is JSON-decoded, so "true" and "4096" arrive typed, but "off" stays a (truthy) string:
    SWITCHBOARD_ENABLE_DIAGNOSTICS=off must not switch unauthenticated endpoints on. A negative number, a fraction
    where a count is wanted, or 0 where it would stall everything (POSITIVE_SETTINGS) is refused too.
    """
    for key, default in DEFAULTS.items():
        value = app.config.get(key)
        if default is None or isinstance(default, str | list) or value is None:
            continue
        if isinstance(default, bool):
            app.config[key] = typed_boolean(key, value)
        elif isinstance(default, int | float):
            app.config[key] = typed_number(key, value, type(default))


def typed_boolean(key: str, value: object) -> bool:
    """A boolean setting from a bool, 0/1 (JSON-decoded) or one of the usual words."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text not in _TRUE_WORDS | _FALSE_WORDS:
        raise ConfigurationError(f"Setting {key} must be a bool (true/false, 1/0, yes/no, on/off), not {value!r}.")
    return text in _TRUE_WORDS


def typed_number(key: str, value: object, kind: type) -> int | float:
    """A numeric setting of its default's type, within its bounds."""
    wanted = f"Setting {key} must be {'a whole number' if kind is int else 'a number'}"
    try:
        if isinstance(value, bool):  # JSON-decoded "true": never a number
            raise ValueError(value)
        number = float(value.strip()) if isinstance(value, str) else float(value)
        if kind is int and not number.is_integer():
            raise ValueError(value)
    except (TypeError, ValueError):
        raise ConfigurationError(f"{wanted}, not {value!r}.") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise ConfigurationError(f"{wanted}, not {value!r}.")
    if number < 0 or (number == 0 and key in POSITIVE_SETTINGS):
        bound = "greater than 0" if key in POSITIVE_SETTINGS else "0 or more"
        raise ConfigurationError(f"Setting {key} must be {bound}, not {value!r}.")
    return int(number) if kind is int else number


def instance_secret_key(instance: Path) -> str:
    """Read, or create once with owner-only permissions, the secret key kept in the instance folder."""
    path = instance / "secret_key"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass  # made earlier, or by a sibling process starting at the same moment
    else:
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
    return path.read_text().strip()
