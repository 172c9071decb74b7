"""Encryption at rest for stored secrets (provider keys, token caches), and the keys derived from
SWITCHBOARD_SECRET_KEY for other purposes."""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

# A fixed context label: the same secret key yields unrelated encryption keys for other purposes.
_KEY_PURPOSE = b"switchboard/secrets-at-rest/v1"


class SecretDecryptionError(Exception):
    """A stored secret could not be decrypted: the secret key changed or the value was tampered with."""


def derive_key(secret_key: str, purpose: bytes) -> bytes:
    """Derive 32 key bytes for one purpose from the operator's secret key with HKDF-SHA256.

    Each purpose label yields an unrelated key, so no use of the secret key can be turned against another.
    """
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose)
    return hkdf.derive(secret_key.encode("utf-8"))


def derive_fernet_key(secret_key: str) -> bytes:
    """Derive a Fernet key (32 bytes, urlsafe base64) from the operator's secret key with HKDF-SHA256."""
    return base64.urlsafe_b64encode(derive_key(secret_key, _KEY_PURPOSE))


class SecretBox:
    """Encrypts with the current secret key; decrypts with it or any listed fallback (for key rotation)."""

    def __init__(self, secret_key: str, fallbacks: list[str] | tuple[str, ...] = ()) -> None:
        """Keep one Fernet per key; the first (current) key encrypts, any of them decrypts."""
        if not secret_key:
            raise ValueError("a secret key is required to encrypt stored secrets")
        if isinstance(fallbacks, str):
            raise TypeError("fallbacks is a list of keys, not one string")
        keys = [secret_key, *fallbacks]
        self._fernet = MultiFernet([Fernet(derive_fernet_key(k)) for k in keys])

    def encrypt(self, plaintext: str) -> str:
        """Encrypt and authenticate a secret; the result is ASCII text safe to store."""
        return self._fernet.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
        """Return the plaintext of a value made by `encrypt`."""
        try:
            return self._fernet.decrypt(_token_bytes(token)).decode("utf-8")
        except InvalidToken as exc:
            raise SecretDecryptionError("stored secret cannot be decrypted with the configured keys") from exc

    def rotate(self, token: str) -> str:
        """Re-encrypt a stored value under the current key."""
        try:
            return self._fernet.rotate(_token_bytes(token)).decode("ascii")
        except InvalidToken as exc:
            raise SecretDecryptionError("stored secret cannot be decrypted with the configured keys") from exc


def _token_bytes(token: str) -> bytes:
    """A stored token as bytes; anything that is not ASCII cannot be a token, so it fails like a tampered one."""
    try:
        return token.encode("ascii")
    except (UnicodeEncodeError, AttributeError) as exc:
        raise InvalidToken from exc


def fallback_keys(value: object) -> list[str]:
    """Previous secret keys from config: a list, or (from the environment) one comma-separated string."""
    if not value:
        return []
    # A plain string would otherwise be iterated character by character, one "key" per character.
    keys = value.split(",") if isinstance(value, str) else list(value)
    return [key.strip() for key in keys if key and key.strip()]


def configured_secret_keys() -> list[str]:
    """The current app's secret key first, then its fallbacks (previous keys, still accepted after a rotation)."""
    return [current_app.config["SECRET_KEY"], *fallback_keys(current_app.config.get("SECRET_KEY_FALLBACKS"))]


def secret_box() -> SecretBox:
    """The SecretBox of the current app."""
    current, *fallbacks = configured_secret_keys()
    return SecretBox(current, fallbacks)
