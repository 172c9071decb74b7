"""A job may name a OneDrive/SharePoint drive item instead of carrying the document.

At submit (in the request) the reference is checked, a Files.Read Graph token is obtained on behalf of the caller
(which stores a refresh token in the user's encrypted MSAL cache) and the item's metadata is checked; only the
reference is stored. The worker later gets a token silently from that cache, downloads the content and puts its
text where the plan expects `document`. Neither tokens nor document text are ever logged.
"""

from __future__ import annotations

import hashlib
import logging
import re
from typing import Any
from urllib.parse import quote, urljoin

import requests
from flask import current_app
from sqlalchemy import select

from backend.auth.identity import Identity
from backend.auth.obo import graph_scopes, graph_token
from backend.errors import ApiError
from backend.extensions import db
from backend.jobs.document_text import UnsupportedDocument, document_text, is_supported_name
from backend.models import Job, JobStep, User

log = logging.getLogger(__name__)

# Graph drive and item ids: letters, digits and ! - _ . (e.g. "b!x-Y_z" and "01ABC" or "D4648F06C91D9D3D!54927").
SAFE_ID = re.compile(r"^[A-Za-z0-9!._-]{1,256}$")
DOWNLOAD_CHUNK_BYTES = 64 * 1024
DEFAULT_TIMEOUT_SECONDS = 30
SOURCE_STEP_KEY = "source:sha256"  # a pseudo-step: the hash of the file the job's stored steps were made from


class DriveItemError(Exception):
    """The item cannot be used; `status` is the HTTP answer at submit, `code` the job's error code in the worker."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def drive_item_reference(data: dict[str, Any]) -> dict[str, str] | None:
    """The input's validated {drive_id, item_id}, or None when the input carries the document itself."""
    reference = data.get("drive_item")
    if reference is None:
        return None
    if "document" in data:
        raise ApiError(422, "invalid_input", "Give either `document` or `drive_item`, not both.")
    fields = ("drive_id", "item_id")
    if (
        not isinstance(reference, dict)
        or set(reference) != set(fields)
        or not all(isinstance(reference[name], str) and SAFE_ID.match(reference[name]) for name in fields)
    ):
        raise ApiError(422, "invalid_input", "`drive_item` needs `drive_id` and `item_id` (short Graph ids).")
    return {name: reference[name] for name in fields}


def check_drive_item_at_submit(identity: Identity, data: dict[str, Any]) -> None:
    """In the request: get the caller's Graph token (priming their cache for the worker) and check the item."""
    reference = drive_item_reference(data)
    if reference is None:
        return
    token = graph_token(graph_scopes("Files.Read"), identity=identity)  # 401 interaction_required propagates
    try:
        _checked_metadata(token, reference)
    except DriveItemError as exc:
        raise ApiError(exc.status, exc.code, exc.message) from None


def resolve_drive_item(job: Job, data: dict[str, Any]) -> dict[str, Any]:
    """In the worker: the input with `document` set to the item's text (unchanged when there is no reference)."""
    reference = drive_item_reference(data)
    if reference is None:
        return data
    try:
        token = graph_token(graph_scopes("Files.Read"), identity=owner_identity(job), assertion=None)
    except ApiError as exc:
        if exc.code == "interaction_required":
            raise DriveItemError(401, exc.code, "Open Switchboard in Word again to renew access to the file.") from None
        raise DriveItemError(exc.status, exc.code, exc.message) from None
    metadata = _checked_metadata(token, reference)
    content = _download(token, reference)
    _pin_source(job, hashlib.sha256(content).hexdigest())
    try:
        text = document_text(metadata["name"], content, _max_bytes())
    except UnsupportedDocument as exc:
        raise DriveItemError(422, "unsupported_document", str(exc)) from None
    if not text.strip():
        raise DriveItemError(422, "empty_document", "The file holds no text.")
    log.info("drive item fetched", extra={"job_id": job.id, "bytes": len(content)})
    return {**{k: v for k, v in data.items() if k != "drive_item"}, "document": text}


def _pin_source(job: Job, digest: str) -> None:
    """Remember the content's hash with the job's steps; a resume over a changed file fails instead of mixing both.

    Stored steps are keyed by chunk position, so reusing them for an edited file would combine two versions.
    """
    stored = db.session.scalar(select(JobStep.result).where(JobStep.job_id == job.id, JobStep.key == SOURCE_STEP_KEY))
    if stored is None:
        db.session.add(JobStep(job_id=job.id, tenant_id=job.tenant_id, key=SOURCE_STEP_KEY, result={"sha256": digest}))
        db.session.commit()
    elif stored.get("sha256") != digest:
        raise DriveItemError(409, "document_changed", "The file changed while the job ran; submit the job again.")


def owner_identity(job: Job) -> Identity:
    """The job owner as an Identity: the tenant and Entra object id that key their token cache."""
    user = db.session.get(User, job.user_id)
    if user is None:
        raise DriveItemError(401, "interaction_required", "The job's owner is unknown; submit the job again.")
    return Identity(tenant_id=job.tenant_id, user_id=user.id, object_id=user.object_id, name="", roles=())


def _item_url(reference: dict[str, str]) -> str:
    """The Graph URL of the item (ids are already restricted to safe characters; quoted all the same)."""
    base = current_app.config["GRAPH_BASE_URL"].rstrip("/")
    return f"{base}/v1.0/drives/{quote(reference['drive_id'], safe='!')}/items/{quote(reference['item_id'], safe='!')}"


def _checked_metadata(token: str, reference: dict[str, str]) -> dict[str, Any]:
    """The item's name and size, refused when it is a folder, too large or of a type we cannot read."""
    response = _graph_get(
        f"{_item_url(reference)}?$select=name,size,file", {"Authorization": f"Bearer {token}"}, stream=False
    )
    try:
        metadata = response.json()
    except ValueError:
        metadata = None
    if not isinstance(metadata, dict):
        raise DriveItemError(502, "graph_unavailable", "Microsoft Graph answered with something unexpected.")
    if not isinstance(metadata.get("file"), dict) or not isinstance(metadata.get("name"), str):
        raise DriveItemError(422, "unsupported_document", "The drive item is not a file.")
    if not is_supported_name(metadata["name"]):
        raise DriveItemError(422, "unsupported_document", "Only .docx, .txt and .md files can be read.")
    if int(metadata.get("size") or 0) > _max_bytes():
        raise _too_large()
    return metadata


def _download(token: str, reference: dict[str, str]) -> bytes:
    """The item's content; Graph's redirect to the download URL is followed without the bearer token."""
    response = _graph_get(f"{_item_url(reference)}/content", {"Authorization": f"Bearer {token}"})
    if response.is_redirect:
        # The download URL is pre-authenticated and usually on another host: the Graph token must not go there.
        location = urljoin(response.url, response.headers["Location"])
        response.close()
        response = _graph_get(location, {})
        if response.is_redirect:
            response.close()
            raise DriveItemError(502, "graph_unavailable", "Microsoft Graph did not return the file.")
    with response:
        declared = response.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > _max_bytes():
            raise _too_large()
        received = bytearray()
        for piece in response.iter_content(DOWNLOAD_CHUNK_BYTES):
            received.extend(piece)
            if len(received) > _max_bytes():
                raise _too_large()
    return bytes(received)


def _graph_get(url: str, headers: dict[str, str], stream: bool = True) -> requests.Response:
    """One GET with timeouts and no automatic redirects; Graph's refusals become DriveItemErrors."""
    timeout = float(current_app.config.get("GRAPH_HTTP_TIMEOUT_SECONDS", DEFAULT_TIMEOUT_SECONDS))
    try:
        response = requests.get(url, headers=headers, timeout=timeout, stream=stream, allow_redirects=False)
    except requests.RequestException:
        raise DriveItemError(502, "graph_unavailable", "Microsoft Graph could not be reached.") from None
    if response.status_code < 300 or response.is_redirect:
        return response
    response.close()
    log.warning("graph refused a drive item request", extra={"graph_status": response.status_code})
    if response.status_code == 404:
        raise DriveItemError(404, "drive_item_not_found", "The file was not found, or you cannot open it.")
    if response.status_code in (401, 403):
        raise DriveItemError(403, "drive_item_forbidden", "You are not allowed to open this file.")
    raise DriveItemError(502, "graph_unavailable", "Microsoft Graph did not return the file.")


def _max_bytes() -> int:
    """The largest file a job may read, the same limit as a job's inline input."""
    return int(current_app.config["JOB_MAX_INPUT_BYTES"])


def _too_large() -> DriveItemError:
    """The error for a file over the limit."""
    return DriveItemError(413, "document_too_large", f"The file is larger than {_max_bytes()} bytes.")
