"""What an idempotency key was used for: a keyed fingerprint of the job request, kept on the job row.

An HMAC rather than a plain hash because the request holds document text and the fingerprint outlives it (retention
purges the input; the fingerprint stays so the key keeps its meaning): without the secret key, nobody who reads the
database can test a guessed document against it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from backend.crypto import configured_secret_keys, derive_key

# A fixed context label: the fingerprint key is unrelated to the key that encrypts stored secrets.
_KEY_PURPOSE = b"switchboard/job-request-fingerprint/v1"


def canonical_request(skill_id: str, job_input: Any, options: dict) -> bytes:
    """The request as canonical JSON: the same skill, input and options always give the same bytes."""
    request = {"skill": skill_id, "input": job_input, "options": options}
    return json.dumps(request, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def request_fingerprint(skill_id: str, job_input: Any, options: dict) -> str:
    """The HMAC-SHA256 (hex) of the canonical request, under the current app's secret key."""
    return _fingerprint(configured_secret_keys()[0], canonical_request(skill_id, job_input, options))


def is_same_request(stored: str | None, skill_id: str, job_input: Any, options: dict) -> bool:
    """Whether a job's stored fingerprint is this request's; a job made before fingerprints (NULL) matches any.

    The previous secret keys count too, so rotating the key does not turn every retry of an older job into a
    conflict.
    """
    if stored is None:
        return True
    canonical = canonical_request(skill_id, job_input, options)
    return any(hmac.compare_digest(stored, _fingerprint(key, canonical)) for key in configured_secret_keys())


def _fingerprint(secret_key: str, canonical: bytes) -> str:
    """The HMAC-SHA256 (hex) of canonical request bytes, keyed for this purpose from one secret key."""
    return hmac.new(derive_key(secret_key, _KEY_PURPOSE), canonical, hashlib.sha256).hexdigest()
