"""/metrics: valid Prometheus text, requests counted by route template, and summed over gunicorn's workers."""

from __future__ import annotations

import os
import shutil
import signal
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

from tests.fakes.entra import FakeEntra
from tests.live_server import LiveServer, worker_pids

REQUESTS = "switchboard_http_requests"


def samples(text: str, name: str) -> dict[tuple, float]:
    """The `<name>_total` samples of an exposition text, keyed by their sorted labels."""
    families = {family.name: family for family in text_string_to_metric_families(text)}
    found = {}
    for sample in families[name].samples if name in families else []:
        if sample.name == f"{name}_total":
            found[tuple(sorted(sample.labels.items()))] = sample.value
    return found


def count(text: str, method: str, endpoint: str, status: str) -> float:
    """Requests counted for one (method, endpoint, status), 0 if none yet."""
    key = (("endpoint", endpoint), ("method", method), ("status", status))
    return samples(text, REQUESTS).get(key, 0.0)


def test_the_exposition_parses_and_counts_by_route_template(client):
    before = client.get("/metrics")
    assert before.status_code == 200 and before.content_type.startswith("text/plain")
    start = count(before.text, "GET", "/api/jobs/<job_id>", "401")
    for job_id in ("first-job", "second-job", "third-job"):
        assert client.get(f"/api/jobs/{job_id}").status_code == 401
    after = client.get("/metrics").text
    assert count(after, "GET", "/api/jobs/<job_id>", "401") == start + 3
    endpoints = {dict(labels)["endpoint"] for labels in samples(after, REQUESTS)}
    assert not any("first-job" in endpoint for endpoint in endpoints)  # raw paths never become labels
    assert count(after, "GET", "/metrics", "200") >= 1
    families = {family.name for family in text_string_to_metric_families(after)}
    assert {"switchboard_http_request_seconds", "switchboard_streams_open"} <= families


def test_unmatched_paths_share_one_label(client):
    start = count(client.get("/metrics").text, "GET", "unmatched", "404")
    for path in ("/a", "/b/c", "/api/nothing-here"):
        assert client.get(path).status_code == 404
    assert count(client.get("/metrics").text, "GET", "unmatched", "404") == start + 3


def test_made_up_methods_share_one_label(client):
    """Any client may send any method token: each would be a series of its own, so unknown ones are "other"."""
    start = count(client.get("/metrics").text, "other", "unmatched", "405")
    for method in ("FOO", "BARBAZ", "QUUX"):
        assert client.open("/api/health", method=method).status_code == 405
    after = client.get("/metrics").text
    assert count(after, "other", "unmatched", "405") == start + 3
    assert not {"FOO", "BARBAZ", "QUUX"} & {dict(labels)["method"] for labels in samples(after, REQUESTS)}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`switchboard run` with two workers, sharing a Prometheus multiprocess directory."""
    with FakeEntra() as entra:
        live = LiveServer.start(tmp_path_factory.mktemp("metrics-server"), entra.base_url)
        yield live
        live.stop()


def counted_by_worker(metrics_dir: Path, pid: int, scratch: Path) -> float:
    """GET /api/me 401s in one worker's own counter file, read alone through prometheus_client's collector."""
    alone = scratch / str(pid)
    alone.mkdir(exist_ok=True)
    for old in alone.iterdir():
        old.unlink()
    source = metrics_dir / f"counter_{pid}.db"
    if not source.exists():
        return 0.0
    shutil.copy(source, alone / source.name)
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(alone))
    for family in registry.collect():
        for sample in family.samples:
            labels = sample.labels
            if sample.name == f"{REQUESTS}_total" and labels == {
                "method": "GET",
                "endpoint": "/api/me",
                "status": "401",
            }:
                return sample.value
    return 0.0


@pytest.mark.slow
def test_two_workers_are_aggregated(server, tmp_path):
    (metrics_dir,) = [path for path in server.metrics_parent.iterdir() if path.name.startswith("switchboard-metrics-")]
    workers = sorted(worker_pids(server.process.pid))
    assert len(workers) == 2
    before = {pid: counted_by_worker(metrics_dir, pid, tmp_path) for pid in workers}
    # Which worker accepts a new connection is the kernel's choice, and one idle worker can win every time (CI saw
    # 320 of 320). With the other worker stopped, the running one takes every new connection: each serves 5 for sure.
    for paused in workers:
        os.kill(paused, signal.SIGSTOP)
        try:
            statuses = [server.request("GET", "/api/me").status for _ in range(5)]  # a new connection each
        finally:
            os.kill(paused, signal.SIGCONT)
        assert statuses == [401] * 5
    per_worker = {pid: counted_by_worker(metrics_dir, pid, tmp_path) - before[pid] for pid in workers}
    assert per_worker == {pid: 5.0 for pid in workers}
    total = sum(before.values()) + 10
    assert count(server.request("GET", "/metrics").body.decode(), "GET", "/api/me", "401") == total


@pytest.mark.slow
def test_gunicorn_workers_serve_the_jobs_gauge_beside_the_aggregated_counters(server):
    """The scrape-time gauge (backend/jobs/metrics.py) joins the multiprocess registry's output, parsed as one text."""
    families = {
        family.name: family
        for family in text_string_to_metric_families(server.request("GET", "/metrics").body.decode())
    }
    assert {"switchboard_http_requests", "switchboard_jobs"} <= set(families)
    assert families["switchboard_jobs"].type == "gauge"
    assert {sample.value for sample in families["switchboard_jobs"].samples} == {0.0}  # a fresh database: no job yet
