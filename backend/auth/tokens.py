"""Access-token validation: RS256 only, exact issuers per tenant, our audience, a user's access_as_user scope."""

from __future__ import annotations

import re
from dataclasses import dataclass

import jwt

ALGORITHM = "RS256"
V1_ISSUER_TEMPLATE = "https://sts.windows.net/{tid}/"
REQUIRED_SCOPE = "access_as_user"
REQUIRED_CLAIMS = ("exp", "iat", "iss", "aud", "tid", "oid")
# Entra's access tokens are a few KB (a groups overage replaces long group lists); anything far larger is refused
# before it is decoded.
MAX_TOKEN_CHARS = 16_384
# Headers that let a token name its own verification key: honouring any of them lets anyone sign.
KEY_SUPPLYING_HEADERS = ("jwk", "jku", "x5u", "x5c")
# Entra tenant and object ids are GUIDs; anything else is refused before it reaches a URL or a query.
GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


class InvalidToken(Exception):
    """The token is refused; `reason` is a short fixed phrase safe to log (never any part of the token)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class TokenPolicy:
    """What a valid token must say: our audiences, the v2 issuer template, and the clock leeway.

    A v1 token's `aud` is the App ID URI or the client id (whichever the client asked for); a v2 token's is always
    the client id, so a v2 token naming the App ID URI was not issued by Entra as it stands.
    """

    audiences: tuple[str, ...]
    v2_issuer_template: str
    leeway_seconds: int = 60
    client_id: str = ""

    def issuers_for(self, tenant_id: str) -> tuple[str, str]:
        """The only two issuers a token of this tenant may carry (v2, v1)."""
        return self.v2_issuer_template.format(tid=tenant_id), V1_ISSUER_TEMPLATE.format(tid=tenant_id)


@dataclass(frozen=True)
class UnverifiedToken:
    """Header and claims read before the signature is checked: used only to pick the tenant and the key."""

    key_id: str
    tenant_id: str
    object_id: str


def read_unverified(token: str) -> UnverifiedToken:
    """Check the header's shape and pull out kid, tid and oid; nothing here is trusted yet."""
    if len(token) > MAX_TOKEN_CHARS:
        raise InvalidToken("token too large")
    try:
        header = jwt.get_unverified_header(token)
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError as exc:
        raise InvalidToken(f"malformed token ({type(exc).__name__})") from None
    if header.get("alg") != ALGORITHM:
        raise InvalidToken("algorithm is not RS256")
    if any(name in header for name in KEY_SUPPLYING_HEADERS):
        raise InvalidToken("header supplies its own key")
    if "crit" in header:
        raise InvalidToken("critical header extensions are not supported")
    key_id = header.get("kid")
    if not isinstance(key_id, str) or not key_id:
        raise InvalidToken("missing kid")
    tenant_id, object_id = claims.get("tid"), claims.get("oid")
    if not isinstance(tenant_id, str) or not GUID.match(tenant_id):
        raise InvalidToken("missing or malformed tid")
    if not isinstance(object_id, str) or not GUID.match(object_id):
        raise InvalidToken("missing or malformed oid")
    return UnverifiedToken(key_id=key_id, tenant_id=tenant_id, object_id=object_id)


def verify(token: str, key: object, policy: TokenPolicy, tenant_id: str) -> dict:
    """Verify signature, lifetime, audience, issuer and scope; return the claims."""
    if not policy.audiences:
        raise InvalidToken("no audience configured")
    try:
        claims = jwt.decode(
            token,
            key=key,
            algorithms=[ALGORITHM],
            audience=list(policy.audiences),
            leeway=policy.leeway_seconds,
            options={"require": list(REQUIRED_CLAIMS), "verify_iss": False, "verify_sub": False},
        )
    except jwt.PyJWTError as exc:
        raise InvalidToken(f"verification failed ({type(exc).__name__})") from None
    # The unverified tid chose the key and the tenant; the signed one must be the same.
    if claims.get("tid") != tenant_id:
        raise InvalidToken("tid changed")
    v2_issuer, v1_issuer = policy.issuers_for(tenant_id)
    if claims.get("iss") not in (v2_issuer, v1_issuer):
        raise InvalidToken("issuer does not match the tenant")
    # PyJWT accepts a list that merely includes one of ours; Entra issues exactly one audience.
    if not isinstance(claims["aud"], str):
        raise InvalidToken("audience is not a single value")
    if claims["iss"] == v2_issuer and claims["aud"] != policy.client_id:
        raise InvalidToken("v2 token audience is not the client id")
    scopes = claims.get("scp")
    if not isinstance(scopes, str) or REQUIRED_SCOPE not in scopes.split(" "):
        raise InvalidToken("access_as_user scope missing")
    # An app-only token (application permissions) has no user behind it, whatever else it carries.
    if claims.get("idtyp", "user") != "user":
        raise InvalidToken("not a user token")
    return claims
