"""The OpenAPI document, generated from the registered routes and what each view declares with `@describe`."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from flask import Flask

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}, "details": {}},
        }
    },
}
_PATH_PARAM = re.compile(r"<(?:[a-z_]+:)?([A-Za-z_][A-Za-z0-9_]*)>")
_DOCUMENTED_PREFIXES = ("/api/", "/metrics", "/admin", "/auth/", "/addin")


def describe(
    summary: str | None = None,
    *,
    request: dict | None = None,
    response: dict | None = None,
    responses: dict[int, str] | None = None,
    auth: bool = True,
    tags: list[str] | None = None,
    query: dict[str, dict] | None = None,
    content_type: str = "application/json",
    headers: dict[str, str] | None = None,
) -> Callable:
    """Attach what the OpenAPI document says of a view: request and response schemas, errors, auth, query, and the
    headers of its success response (name -> description)."""

    def attach(view: Callable) -> Callable:
        view.openapi = {
            "summary": summary,
            "request": request,
            "response": response,
            "responses": responses or {},
            "auth": auth,
            "tags": tags or [],
            "query": query or {},
            "content_type": content_type,
            "headers": headers or {},
        }
        return view

    return attach


def build_spec(app: Flask) -> dict[str, Any]:
    """Walk the URL map and describe every public route, so the document can never miss one."""
    paths: dict[str, dict] = {}
    operation_ids: set[str] = set()
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.rule.startswith(_DOCUMENTED_PREFIXES) and rule.rule != "/":
            continue
        view = app.view_functions[rule.endpoint]
        path = _PATH_PARAM.sub(r"{\1}", rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            operation = _operation(rule, view)
            operation["operationId"] = _unique_operation_id(operation["operationId"], method, operation_ids)
            paths.setdefault(path, {})[method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": "Switchboard API", "version": app.config.get("VERSION", "0.1.0")},
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
            "schemas": {"Error": ERROR_SCHEMA},
        },
        "paths": paths,
    }


def _unique_operation_id(base: str, method: str, taken: set[str]) -> str:
    """OpenAPI requires unique operation ids; one view may serve several rules or methods (/addin/ and /addin/x)."""
    candidate, number = base, 1
    while candidate in taken:
        number += 1
        candidate = f"{base}_{method.lower()}" if number == 2 else f"{base}_{method.lower()}_{number}"
    taken.add(candidate)
    return candidate


def _operation(rule, view: Callable) -> dict[str, Any]:
    """One operation object: summary, parameters, request body, responses and whether a bearer token is needed."""
    meta = getattr(view, "openapi", None) or {}
    doc = (view.__doc__ or "").strip().splitlines()
    operation: dict[str, Any] = {
        "operationId": rule.endpoint.replace(".", "_"),
        "summary": meta.get("summary") or (doc[0] if doc else rule.endpoint),
        "tags": meta.get("tags") or [rule.endpoint.split(".")[0]],
        "responses": {},
    }
    # Only the variables in the path itself: a rule's defaults (/addin/ -> filename) are not path parameters.
    in_path = _PATH_PARAM.findall(rule.rule)
    params = [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}} for name in in_path]
    for name, schema in meta.get("query", {}).items():
        params.append({"name": name, "in": "query", "required": False, "schema": schema})
    if params:
        operation["parameters"] = params
    if meta.get("request"):
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": meta["request"]}}}
    declared = {int(status): description for status, description in (meta.get("responses") or {}).items()}
    # The response body belongs to the success status the view declares (202 for an accepted job), else to 200.
    success_status = min((status for status in declared if 200 <= status < 300), default=200)
    success = {"description": declared.pop(success_status, "Success")}
    if meta.get("response") is not None:
        success["content"] = {meta.get("content_type", "application/json"): {"schema": meta["response"]}}
    if meta.get("headers"):
        success["headers"] = {
            name: {"description": text, "schema": {"type": "string"}} for name, text in meta["headers"].items()
        }
    operation["responses"][str(success_status)] = success
    error_ref = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for status, description in declared.items():
        if 200 <= status < 300:
            operation["responses"][str(status)] = {"description": description}
        else:
            operation["responses"][str(status)] = {"description": description, "content": error_ref}
    # The contract: every /api/ route needs a token unless its view says otherwise (@describe(auth=False)).
    if meta.get("auth", rule.rule.startswith("/api/")):
        operation["security"] = [{"bearer": []}]
        operation["responses"].setdefault("401", {"description": "Missing or invalid token", "content": error_ref})
        forbidden = "Tenant not onboarded, pending or disabled (or a role the route needs is missing)"
        operation["responses"].setdefault("403", {"description": forbidden, "content": error_ref})
    else:
        operation["security"] = []
    return operation
