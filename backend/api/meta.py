"""Describing the service itself: the OpenAPI document and Prometheus metrics."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify

from backend import metrics
from backend.jobs.metrics import JobCounts
from backend.openapi import build_spec, describe

bp = Blueprint("meta", __name__)


@bp.get("/api/openapi.json")
@describe("The OpenAPI document of this API, generated from the routes.", auth=False, response={"type": "object"})
def openapi_document() -> Response:
    """The OpenAPI document of this API."""
    return jsonify(build_spec(current_app))


@bp.get("/metrics")
@describe(
    "Prometheus metrics in the text exposition format.",
    auth=False,
    content_type="text/plain",
    response={"type": "string"},
)
def prometheus_metrics() -> Response:
    """Prometheus metrics."""
    body, content_type = metrics.render(scraped=[JobCounts()])
    return Response(body, content_type=content_type)
