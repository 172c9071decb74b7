"""The gunicorn configuration's own pieces: the logger that leaves request lines to the app."""

from __future__ import annotations

from types import SimpleNamespace

from gunicorn.glogging import Logger

from backend import gunicorn_conf


def access_line_built(logger_class: type[Logger], accesslog: str | None) -> bool:
    """Whether the logger formats an access line for one request, its access log switched on the way gunicorn does
    when a logging configuration is given (built without setup(): that would reconfigure this process's logging)."""
    logger = logger_class.__new__(logger_class)
    logger.cfg = SimpleNamespace(accesslog=accesslog, access_log_format="%(h)s")
    logger._access_log_enabled = True
    built: list[object] = []
    logger.atoms = lambda *args: built.append(args) or {}
    logger.access_log = SimpleNamespace(info=lambda *args: None)
    logger.access(SimpleNamespace(), SimpleNamespace(), {}, 0.1)
    return bool(built)


def test_the_configured_logger_writes_request_lines_only_when_an_access_log_is_asked_for():
    assert gunicorn_conf.logger_class is gunicorn_conf.AppLogsRequestsLogger
    assert access_line_built(Logger, None)  # gunicorn's own: every request's line, printed or not
    assert not access_line_built(gunicorn_conf.AppLogsRequestsLogger, None)
    assert access_line_built(gunicorn_conf.AppLogsRequestsLogger, "-")
