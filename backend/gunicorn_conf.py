"""gunicorn settings for Switchboard: `gunicorn -c python:backend.gunicorn_conf backend.wsgi:app`.

`switchboard run` uses this file and overrides bind, workers and worker class from its options. The worker model
was chosen by measurement (bench/streams.py, docs/serving.md): streaming responses hold a connection for minutes,
so concurrency per worker, not request rate, is what must scale.
"""

from __future__ import annotations

import gc
import os
import shutil
import tempfile

from gunicorn.glogging import Logger

from backend.connection_balance import ConnectionBalance

bind = "127.0.0.1:8000"
workers = os.cpu_count() or 1
# gevent: measured to spend 2-3x less CPU per streamed token than gthread at 500-1,000 streams (the thread
# hand-off per token is the cost). The bridge's loop runs as a greenlet there; see docs/serving.md for the caveats.
worker_class = "backend.gevent_worker.SwitchboardGeventWorker"  # gunicorn's gevent worker, one send per write
worker_connections = 1000  # gevent: open connections (so streams) per worker
threads = 1000  # gthread, if chosen instead: one thread per open stream
# The heartbeat of a worker process, not a limit on a request: gthread and gevent workers keep beating while
# streams last for minutes. A worker that misses it for this long is stuck and gets replaced.
timeout = 60
# On SIGTERM or SIGINT, open streams get this long to finish before their worker is killed.
graceful_timeout = 20
keepalive = 5
accesslog = None  # the app logs each request itself, with its request id


class AppLogsRequestsLogger(Logger):
    """gunicorn's logger, writing an access line only when `--access-logfile` asks for one.

    gunicorn switches its access log on whenever a logging configuration is given (logconfig_dict below), and then
    formats every request's line even though no handler prints it: 2% of a worker's CPU in bench/overhead.py.
    """

    def access(self, resp, req, environ, request_time) -> None:
        """Log the request only if an access log file was asked for."""
        if self.cfg.accesslog:
            super().access(resp, req, environ, request_time)


logger_class = AppLogsRequestsLogger
errorlog = "-"
# gunicorn 23+ opens a control socket at one fixed path per user: two servers on one machine would fight over it.
control_socket_disable = True


def on_starting(server) -> None:
    """Give this run a fresh Prometheus multiprocess directory and the shared connection counts, both inherited by
    every worker forked after this."""
    parent = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None
    path = tempfile.mkdtemp(prefix="switchboard-metrics-", dir=parent)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = path
    server.switchboard_metrics_dir = path
    server.switchboard_balance = ConnectionBalance()


def pre_fork(server, worker) -> None:
    """Give the worker about to be forked a free slot in the connection counts (backend/connection_balance.py)."""
    balance = getattr(server, "switchboard_balance", None)
    if balance is not None:
        worker.switchboard_balance = balance
        worker.switchboard_slot = balance.claim_slot(
            getattr(w, "switchboard_slot", None) for w in server.WORKERS.values()
        )


GC_THRESHOLD = (10_000, 20, 20)  # gen0 after 10,000 net allocations (CPython's default: 700)


def post_worker_init(worker) -> None:
    """In a gevent worker, make psycopg2 wait cooperatively (a PostgreSQL query must not freeze every stream), within
    each connection's connect_timeout while it connects (backend/green_postgres.py).

    In every worker, once the app is loaded, load what a first model call would (dispatch.preload_call_path), then
    move what exists now into the collector's permanent generation and collect young objects less often: each full
    collection otherwise walks every imported module's objects, a pause that every open stream of the worker feels
    (bench/streams.py at 1,000 streams: p99 added delay 87-89 ms with this, 145-148 ms without, same CPU per token;
    bench/gc_pause.py for the SDKs' share; docs/serving.md).
    """
    if "gevent" in worker.cfg.worker_class_str:
        from backend.green_postgres import patch_psycopg

        patch_psycopg()
    from backend.dispatch import preload_call_path  # here, in the worker: the master imports none of the app

    preload_call_path()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLD)


def worker_exit(server, worker) -> None:
    """Hand what post_worker_init froze back to the collector as the worker exits: left in the permanent generation,
    the logging handlers among it are finalised only after gevent's modules are torn down, and each of them printed a
    `TypeError` traceback into the JSON log at every gevent worker's exit. (In the master, for a worker that died,
    this does nothing: the master never froze anything.)"""
    gc.unfreeze()


def child_exit(server, worker) -> None:
    """Drop a dead worker's live gauges (open streams) from the aggregate, and free its connection-count slot."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
    balance = getattr(server, "switchboard_balance", None)
    if balance is not None:
        balance.release_slot(getattr(worker, "switchboard_slot", None))


def on_exit(server) -> None:
    """Remove this run's metrics directory."""
    path = getattr(server, "switchboard_metrics_dir", None)
    if path:
        shutil.rmtree(path, ignore_errors=True)


# gunicorn's own lines (boot, worker start and exit) as JSON lines too, in the app's format.
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "backend.log_format.JsonFormatter"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}},
    "loggers": {"gunicorn.error": {"level": "INFO", "handlers": ["stderr"], "propagate": False}},
    "root": {"level": "INFO", "handlers": []},  # the app adds its own handler (backend/logs.py)
}
