"""Encryption at rest for stored secrets (provider keys, token caches), keyed from SWITCHBOARD_SECRET_KEY."""

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


def derive_fernet_key(secret_key: str) -> bytes:
    """Derive a Fernet key (32 bytes, urlsafe base64) from the operator's secret key with HKDF-SHA256."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_KEY_PURPOSE)
    return base64.urlsafe_b64encode(hkdf.derive(secret_key.encode("utf-8")))


class SecretBox:
    """Encrypts with the current secret key; decrypts with it or any listed fallback (for key rotation)."""

    def __init__(self, secret_key: str, fallbacks: list[str] | tuple[str, ...] = ()) -> None:
        keys = [secret_key, *fallbacks]
        self._fernet = MultiFernet([Fernet(derive_fernet_key(k)) for k in keys])

    def encrypt(self, plaintext: str) -> str:
        """Encrypt and authenticate a secret; the result is ASCII text safe to store."""
        return self._fernet.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
        """Return the plaintext of a value made by `encrypt`."""
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except InvalidToken as exc:
            raise SecretDecryptionError("stored secret cannot be decrypted with the configured keys") from exc

    def rotate(self, token: str) -> str:
        """Re-encrypt a stored value under the current key."""
        return self._fernet.rotate(token.encode("ascii")).decode("ascii")


def secret_box() -> SecretBox:
    """The SecretBox of the current app."""
    fallbacks = current_app.config.get("SECRET_KEY_FALLBACKS") or []
    return SecretBox(current_app.config["SECRET_KEY"], fallbacks)
