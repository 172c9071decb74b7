"""Prometheus metrics: HTTP traffic here; other parts add their own beside these (model calls:
backend/metering/call_metrics.py; jobs: backend/jobs/metrics.py). docs/serving.md lists them all."""

from __future__ import annotations

import os
import time
from collections.abc import Iterable

from flask import Flask, Response, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client import multiprocess as prometheus_multiprocess
from prometheus_client.registry import Collector

HTTP_REQUESTS = Counter("switchboard_http_requests", "HTTP requests answered", ["method", "endpoint", "status"])
HTTP_LATENCY = Histogram(
    "switchboard_http_request_seconds",
    "Time to produce the response head",
    ["method", "endpoint"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
# Methods any client may send are labelled as themselves; anything else is "other", or one client could make a series
# per made-up method.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
STREAMS_OPEN = Gauge("switchboard_streams_open", "Streaming responses in progress", multiprocess_mode="livesum")


def render(scraped: Iterable[Collector] = ()) -> tuple[bytes, str]:
    """The exposition text; under gunicorn it aggregates every worker through the multiprocess directory. The
    `scraped` collectors are computed now, for this scrape only (the jobs gauge: backend/jobs/metrics.py)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        prometheus_multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    body = generate_latest(registry)
    now = CollectorRegistry(auto_describe=False)
    for collector in scraped:
        now.register(collector)
    return body + generate_latest(now), CONTENT_TYPE_LATEST


def init_app(app: Flask) -> None:
    """Count and time every request by its route template (not its raw path, which would explode cardinality)."""

    @app.before_request
    def start_timer() -> None:
        g.metrics_started = time.perf_counter()

    @app.after_request
    def observe(response: Response) -> Response:
        endpoint = request.url_rule.rule if request.url_rule else "unmatched"
        method = request.method if request.method in KNOWN_METHODS else "other"
        HTTP_REQUESTS.labels(method, endpoint, str(response.status_code)).inc()
        started = g.get("metrics_started")
        if started is not None:
            HTTP_LATENCY.labels(method, endpoint).observe(time.perf_counter() - started)
        return response
