"""A loopback Microsoft Graph for drive items: metadata, /content answered with a 302 to a download URL on another
path of the same server (as Graph redirects to a pre-authenticated SharePoint URL), and the download itself.

Bearer tokens are checked with `token_owner` (token -> oid or None), which the test wires to what the fake Entra
issued; an item is served only to its owner. Every request is recorded, so tests can assert which token reached
which path and that no Authorization header reached the download URL.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from urllib.parse import urlsplit

from tests.fakes.loopback import LoopbackServer


@dataclass
class DriveItem:
    """A file in a drive: who may read it, its name and bytes (`size` overrides the reported size if set)."""

    owner_oid: str
    name: str
    content: bytes
    size: int | None = None
    folder: bool = False
    hide_length: bool = False  # download without Content-Length (the body ends when the connection closes)


@dataclass
class GraphRequest:
    """One request as the fake received it."""

    path: str
    authorization: str | None


class FakeGraph(LoopbackServer):
    """Graph's drive item endpoints on 127.0.0.1:<free port>."""

    def __init__(self, token_owner: Callable[[str], str | None]) -> None:
        self.token_owner = token_owner
        self.items: dict[tuple[str, str], DriveItem] = {}
        # When set, download URLs carry it as SharePoint's do (`?tempauth=...`): a credential for the file itself.
        self.tempauth: str | None = None
        self.requests: list[GraphRequest] = []
        self._downloads: dict[str, DriveItem] = {}
        self._lock = threading.Lock()
        super().__init__(self._handler())

    def add(self, drive_id: str, item_id: str, item: DriveItem) -> None:
        """Put a file in a drive."""
        self.items[(drive_id, item_id)] = item

    def paths(self, prefix: str) -> list[GraphRequest]:
        """Recorded requests whose path starts with prefix."""
        return [r for r in self.requests if r.path.startswith(prefix)]

    def _answer(self, path: str, authorization: str | None) -> tuple[int, dict[str, str], bytes]:
        """Status, headers and body for a GET."""
        parts = path.strip("/").split("/")
        if parts[0] == "download" and len(parts) == 2:
            item = self._downloads.get(parts[1])
            if item is None or authorization is not None:  # a pre-authenticated URL never takes a bearer token
                return 401, {}, b"{}"
            headers = {"Content-Type": "application/octet-stream"}
            if item.hide_length:
                headers["Connection"] = "close"
            return 200, headers, item.content
        if len(parts) < 5 or parts[:2] != ["v1.0", "drives"] or parts[3] != "items":
            return 404, {}, b"{}"
        token = (authorization or "").removeprefix("Bearer ")
        oid = self.token_owner(token) if authorization and authorization.startswith("Bearer ") else None
        if oid is None:
            return 401, {}, json.dumps({"error": {"code": "InvalidAuthenticationToken"}}).encode()
        item = self.items.get((parts[2], parts[4]))
        if item is None or item.owner_oid != oid:
            return 404, {}, json.dumps({"error": {"code": "itemNotFound"}}).encode()
        if len(parts) == 5:
            facet = {"folder": {"childCount": 0}} if item.folder else {"file": {"mimeType": "application/octet-stream"}}
            size = item.size if item.size is not None else len(item.content)
            metadata = {"name": item.name, "size": size, **facet}
            return 200, {"Content-Type": "application/json"}, json.dumps(metadata).encode()
        if len(parts) == 6 and parts[5] == "content":
            download_id = secrets.token_urlsafe(8)
            with self._lock:
                self._downloads[download_id] = item
            query = f"?tempauth={self.tempauth}" if self.tempauth else ""
            return 302, {"Location": f"{self.base_url}/download/{download_id}{query}"}, b""
        return 404, {}, b"{}"

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args) -> None:  # keep test output quiet
                return

            def do_GET(self) -> None:
                path = urlsplit(self.path).path
                authorization = self.headers.get("Authorization")
                with fake._lock:
                    fake.requests.append(GraphRequest(path, authorization))
                status, headers, body = fake._answer(path, authorization)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                if "Connection" not in headers:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler
