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


WORKER_START = """
import gc, json, sys
from types import SimpleNamespace
from backend import gunicorn_conf
from backend.routing.tokens import text_counter

before = {name for name in ("semantic_kernel", "openai", "anthropic") if name in sys.modules}
gunicorn_conf.post_worker_init(SimpleNamespace(cfg=SimpleNamespace(worker_class_str="sync")))
from semantic_kernel.connectors.ai.anthropic import AnthropicChatCompletion
from semantic_kernel.connectors.ai.open_ai import OpenAIChatCompletion
from semantic_kernel.contents import ChatHistory

loaded = set(gc.get_objects())
print(json.dumps({
    "imported_before": sorted(before),
    "tokenizers_loaded": text_counter.cache_info().currsize,
    "threshold": list(gc.get_threshold()),
    "left_to_the_collector": [c.__name__ for c in (ChatHistory, OpenAIChatCompletion, AnthropicChatCompletion)
                              if c in loaded],
}))
"""


def test_a_worker_loads_the_call_path_before_it_freezes_what_exists():
    """post_worker_init imports the SDKs and SK's connectors and loads the tokenizer, then freezes: none of it is left
    for a full collection to walk, and a first caller does not wait for the imports (bench/gc_pause.py)."""
    import json
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-c", WORKER_START], capture_output=True, text=True, check=True)
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["imported_before"] == []  # the app's own modules do not import them: the worker does
    assert report["tokenizers_loaded"] == 1
    assert report["threshold"] == list(gunicorn_conf.GC_THRESHOLD)
    assert report["left_to_the_collector"] == []
