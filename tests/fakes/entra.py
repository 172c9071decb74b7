"""A loopback Entra ID: OpenID discovery, a JWKS endpoint, and a token endpoint that does on-behalf-of exchanges.

It signs real RS256 tokens with keys generated in the test and counts every hit, so tests can assert how often the
app fetched keys or asked for a token.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from collections import Counter
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qsl, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.fakes.loopback import LoopbackServer


def new_rsa_key() -> rsa.RSAPrivateKey:
    """A fresh 2048-bit RSA key."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_jwk(key: rsa.RSAPrivateKey, kid: str) -> dict:
    """The public JWK of a key, as Entra publishes it."""
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    return {**jwk, "kid": kid, "use": "sig"}


class FakeEntra(LoopbackServer):
    """Discovery + JWKS + token endpoint on 127.0.0.1:<free port>; `published` is the key set it serves."""

    def __init__(self, public_base: str | None = None) -> None:
        self.published: dict[str, rsa.RSAPrivateKey] = {}
        self.hits: Counter[str] = Counter()
        self.token_requests: list[dict[str, str]] = []
        self.interaction_required_oids: set[str] = set()
        self.issued_access_tokens: dict[str, str] = {}  # access token -> the oid it was issued for
        self.public_base = public_base
        self._issued = 0
        self._lock = threading.Lock()
        super().__init__(self._handler())

    def publish(self, key: rsa.RSAPrivateKey, kid: str | None = None) -> str:
        """Add a key to the served key set; returns its kid."""
        kid = kid or uuid.uuid4().hex
        self.published[kid] = key
        return kid

    def documents_base(self) -> str:
        """The base URL written into discovery documents (https when it stands in for the real authority)."""
        return self.public_base or self.base_url

    def _discovery(self, tid: str) -> dict:
        base = self.documents_base()
        return {
            "issuer": f"{base}/{tid}/v2.0",
            "jwks_uri": f"{base}/{tid}/discovery/v2.0/keys",
            "authorization_endpoint": f"{base}/{tid}/oauth2/v2.0/authorize",
            "token_endpoint": f"{base}/{tid}/oauth2/v2.0/token",
            "id_token_signing_alg_values_supported": ["RS256"],
        }

    def _token(self, tid: str, form: dict[str, str]) -> tuple[int, dict]:
        """Answer an OBO (jwt-bearer) or refresh_token grant for the user named by the assertion."""
        with self._lock:
            self.token_requests.append(form)
            self._issued += 1
            serial = self._issued
        if form.get("grant_type") == "urn:ietf:params:oauth:grant-type:jwt-bearer":
            claims = jwt.decode(form.get("assertion", ""), options={"verify_signature": False})
            oid = claims["oid"]
        elif form.get("grant_type") == "refresh_token":
            oid = form.get("refresh_token", "").split(":")[1]
        else:
            return 400, {"error": "unsupported_grant_type"}
        if oid in self.interaction_required_oids:
            challenge = json.dumps({"access_token": {"capolids": {"essential": True, "values": ["mfa-policy"]}}})
            return 400, {
                "error": "invalid_grant",
                "error_description": "AADSTS50076: multi-factor authentication required.",
                "suberror": "basic_action",
                "claims": challenge,
            }
        self.issued_access_tokens[f"graph-token:{oid}:{serial}"] = oid
        client_info = base64.urlsafe_b64encode(json.dumps({"uid": oid, "utid": tid}).encode()).decode().rstrip("=")
        scopes = [s for s in form.get("scope", "").split() if s not in ("openid", "profile", "offline_access")]
        return 200, {
            "token_type": "Bearer",
            "access_token": f"graph-token:{oid}:{serial}",
            "refresh_token": f"refresh:{oid}:{serial}",
            "expires_in": 3600,
            "ext_expires_in": 3600,
            "scope": " ".join(scopes),
            "client_info": client_info,
        }

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args) -> None:  # keep test output quiet
                return

            def _send(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                parts = urlsplit(self.path).path.strip("/").split("/")
                if len(parts) == 4 and parts[1:] == ["v2.0", ".well-known", "openid-configuration"]:
                    fake.hits["discovery"] += 1
                    fake.hits[f"discovery/{parts[0]}"] += 1
                    return self._send(200, fake._discovery(parts[0]))
                if len(parts) == 4 and parts[1:] == ["discovery", "v2.0", "keys"]:
                    fake.hits["jwks"] += 1
                    keys = [public_jwk(key, kid) for kid, key in list(fake.published.items())]
                    return self._send(200, {"keys": keys})
                self._send(404, {"error": "not_found"})

            def do_POST(self) -> None:
                parts = urlsplit(self.path).path.strip("/").split("/")
                length = int(self.headers.get("Content-Length") or 0)
                form = dict(parse_qsl(self.rfile.read(length).decode()))
                if len(parts) == 4 and parts[1:] == ["oauth2", "v2.0", "token"]:
                    fake.hits["token"] += 1
                    return self._send(*fake._token(parts[0], form))
                self._send(404, {"error": "not_found"})

        return Handler


def sign_token(key: rsa.RSAPrivateKey, kid: str | None, claims: dict, headers: dict | None = None) -> str:
    """An RS256 token with these claims and extra header fields."""
    extra = dict(headers or {})
    if kid is not None:
        extra["kid"] = kid
    return jwt.encode(claims, key, algorithm="RS256", headers=extra)


def access_token_claims(tenant_id: str, object_id: str, audience: str, issuer: str, **overrides) -> dict:
    """The claims of a valid delegated v2 access token for our API; overrides replace or (None) remove claims."""
    now = int(time.time())
    claims = {
        "aud": audience,
        "iss": issuer,
        "tid": tenant_id,
        "oid": object_id,
        "sub": object_id,
        "name": f"User {object_id[:8]}",
        "scp": "access_as_user",
        "ver": "2.0",
        "iat": now,
        "nbf": now,
        "exp": now + 3600,
    }
    for name, value in overrides.items():
        if value is None:
            claims.pop(name, None)
        else:
            claims[name] = value
    return claims
