"""Dev mode: a local RS256 key in the instance folder signs tokens that pass the same validation as Entra's."""

from __future__ import annotations

import hashlib
import ipaddress
import json
import logging
import os
import time
import uuid
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask, current_app

from backend.auth.keys import is_dev_mode, token_policy
from backend.auth.signing_keys import UnknownSigningKey
from backend.auth.tokens import GUID, REQUIRED_SCOPE

log = logging.getLogger(__name__)

DEV_KEY_FILE = "dev_signing_key.pem"
DEFAULT_DEV_USER = "dev-user"
# Names dev users deterministically: the same --user always gives the same object id.
_DEV_USER_NAMESPACE = uuid.UUID("6b5f1c1e-8d0a-4a53-9d55-2f0c9a1d7e42")
BANNER = (
    "\n" + "!" * 78 + "\n"
    "!!  SWITCHBOARD_AUTH_MODE=dev: tokens are signed by a LOCAL key in the instance folder.\n"
    "!!  Anyone who can reach this server and its dev token endpoint can act as any user.\n"
    "!!  Never run dev mode on a shared or public address.\n" + "!" * 78
)


class DevModeRefused(RuntimeError):
    """Dev mode was asked for on a non-loopback address without AUTH_DEV_FORCE."""


def dev_key_path(app: Flask) -> Path:
    """Where the dev signing key lives (AUTH_DEV_KEY_FILE, else the instance folder)."""
    return Path(app.config.get("AUTH_DEV_KEY_FILE") or Path(app.instance_path) / DEV_KEY_FILE)


def load_dev_key(app: Flask) -> rsa.RSAPrivateKey:
    """Read the dev private key, creating it once with owner-only permissions."""
    path = dev_key_path(app)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass  # made earlier, or by a sibling process at the same moment
    else:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
    for _ in range(50):  # a sibling may still be writing the file it just created
        data = path.read_bytes()
        if data:
            return serialization.load_pem_private_key(data, password=None)
        time.sleep(0.02)
    raise RuntimeError(f"dev signing key {path} is empty")


def key_id(public_key: rsa.RSAPublicKey) -> str:
    """The RFC 7638 thumbprint of the key, used as its kid."""
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(public_key))
    canonical = json.dumps({"e": jwk["e"], "kty": "RSA", "n": jwk["n"]}, separators=(",", ":"), sort_keys=True)
    return jwt.utils.base64url_encode(hashlib.sha256(canonical.encode()).digest()).decode()


class DevSigningKeys:
    """The key resolver of dev mode: the dev key's public half, for every tenant."""

    def __init__(self, app: Flask) -> None:
        public_key = load_dev_key(app).public_key()
        self._kid = key_id(public_key)
        self._public_key = public_key

    def key_for(self, tenant_id: str, kid: str) -> object:
        """The dev public key if the kid names it."""
        if kid != self._kid:
            raise UnknownSigningKey(kid)
        return self._public_key


def dev_object_id(user: str) -> str:
    """A user's object id: itself if it is a GUID, else a stable GUID derived from the name."""
    return user if GUID.match(user) else str(uuid.uuid5(_DEV_USER_NAMESPACE, user))


def mint_dev_token(tenant_id: str, user: str, roles: tuple[str, ...] = (), lifetime_seconds: int = 3600) -> str:
    """A v2-shaped access token for a dev user, signed by the dev key; dev mode only."""
    app = current_app
    if not is_dev_mode(app):
        raise DevModeRefused("dev tokens exist only in SWITCHBOARD_AUTH_MODE=dev")
    if not GUID.match(tenant_id):
        raise ValueError("the tenant id must be a GUID (lower case)")
    private_key = load_dev_key(app)
    policy = token_policy(app)
    now = int(time.time())
    claims = {
        "aud": policy.client_id,
        "iss": policy.issuers_for(tenant_id)[0],
        "tid": tenant_id,
        "oid": dev_object_id(user),
        "sub": dev_object_id(user),
        "name": user,
        "scp": REQUIRED_SCOPE,
        "ver": "2.0",
        "iat": now,
        "nbf": now,
        "exp": now + lifetime_seconds,
    }
    if "tenant_admin" in roles:
        claims["roles"] = ["Tenant.Admin"]
    return jwt.encode(claims, private_key, algorithm="RS256", headers={"kid": key_id(private_key.public_key())})


def ensure_dev_tenant(tenant_id: str, name: str = "Dev tenant"):
    """Onboard the dev tenant as active if it does not exist yet, so dev mode works out of the box."""
    from backend.extensions import db
    from backend.models import Tenant

    if not GUID.match(tenant_id):
        raise ValueError("the tenant id must be a GUID (lower case)")
    tenant = db.session.get(Tenant, tenant_id)
    if tenant is None:
        tenant = Tenant(id=tenant_id, name=name, status="active")
        db.session.add(tenant)
        db.session.commit()
    return tenant


def is_loopback(host: str) -> bool:
    """True for localhost and loopback addresses."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind_host(app: Flask, host: str) -> None:
    """Refuse to serve dev mode on a non-loopback address unless AUTH_DEV_FORCE is set."""
    if is_dev_mode(app) and not is_loopback(host) and not app.config.get("AUTH_DEV_FORCE"):
        raise DevModeRefused(
            f"refusing SWITCHBOARD_AUTH_MODE=dev on {host}: bind 127.0.0.1, or set SWITCHBOARD_AUTH_DEV_FORCE=1"
        )


def warn_banner(app: Flask) -> None:
    """Log the dev-mode warning banner."""
    log.warning(BANNER)


def check_bind(app: Flask, bind: str) -> None:
    """The same check for a gunicorn bind string: HOST:PORT, [IPv6]:PORT, or unix:PATH (always local)."""
    if bind.startswith("unix:"):
        return
    host = bind.rsplit(":", 1)[0] if bind.count(":") == 1 or bind.startswith("[") else bind
    check_bind_host(app, host.strip("[]"))


def refuse_exposed_requests(app: Flask) -> None:
    """In dev mode, answer 503 on any socket bound to a non-loopback address (whoever started the server)."""
    from flask import request

    from backend.errors import ApiError

    @app.before_request
    def _refuse_if_exposed() -> None:
        sock = request.environ.get("gunicorn.socket") or request.environ.get("werkzeug.socket")
        if sock is None or app.config.get("AUTH_DEV_FORCE"):
            return
        local = sock.getsockname()
        if isinstance(local, tuple) and not is_loopback(str(local[0])):
            log.error("dev mode request on a non-loopback socket refused", extra={"local_address": str(local[0])})
            raise ApiError(503, "dev_mode_exposed", "This server runs in dev auth mode and serves loopback only.")
