"""SecretBox: provider keys are stored encrypted, authenticated, and survive a rotation of the secret key."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from backend.crypto import SecretBox, SecretDecryptionError, fallback_keys, secret_box
from backend.extensions import db
from backend.models import Tenant, TenantProvider

KEY = "current-secret-key-0123456789-abcdefghijklmnop"
OLD_KEY = "previous-secret-key-0123456789-abcdefghijklmno"
API_KEY = "sk-live-Zq7yT1cK9mV3pW6x"


@pytest.mark.parametrize("plaintext", [API_KEY, "", "clé-ünïcødé-🔑", "x" * 10_000])
def test_round_trip(plaintext):
    """What is encrypted decrypts to the same text, empty, unicode and long values included."""
    box = SecretBox(KEY)
    assert box.decrypt(box.encrypt(plaintext)) == plaintext


def test_ciphertext_hides_plaintext_and_differs_each_time():
    """The stored token neither contains the secret nor repeats between calls."""
    box = SecretBox(KEY)
    first, second = box.encrypt(API_KEY), box.encrypt(API_KEY)
    assert API_KEY not in first
    assert first != second  # a fresh IV per call: equal keys are not recognisable in the database
    assert first.isascii()


def test_wrong_key_fails():
    """A token made with another key is refused with SecretDecryptionError."""
    token = SecretBox(KEY).encrypt(API_KEY)
    with pytest.raises(SecretDecryptionError):
        SecretBox(OLD_KEY).decrypt(token)


@pytest.mark.parametrize("mangle", [lambda t: t[:-4] + "AAAA", lambda t: t[:20], lambda t: "", lambda t: "nøt-a-tøken"])
def test_tampered_or_garbage_token_fails(mangle):
    """A changed, cut, empty or non-ASCII token is refused with SecretDecryptionError."""
    token = SecretBox(KEY).encrypt(API_KEY)
    with pytest.raises(SecretDecryptionError):
        SecretBox(KEY).decrypt(mangle(token))


def test_rotation_through_fallbacks():
    """After a key change, old tokens decrypt through the fallbacks and rotate to the new key."""
    old_token = SecretBox(OLD_KEY).encrypt(API_KEY)
    rotated_box = SecretBox(KEY, fallbacks=[OLD_KEY])
    assert rotated_box.decrypt(old_token) == API_KEY
    new_token = rotated_box.rotate(old_token)
    # Once rotated, the value needs only the new key, and the retired key can no longer read it.
    assert SecretBox(KEY).decrypt(new_token) == API_KEY
    with pytest.raises(SecretDecryptionError):
        SecretBox(OLD_KEY).decrypt(new_token)
    # New values are always made with the current key, never a fallback.
    assert SecretBox(KEY).decrypt(rotated_box.encrypt(API_KEY)) == API_KEY


def test_rotate_with_unknown_key_fails():
    """Rotating a token no configured key can read is refused."""
    with pytest.raises(SecretDecryptionError):
        SecretBox(KEY).rotate(SecretBox(OLD_KEY).encrypt(API_KEY))


def test_constructor_rejects_missing_key_and_string_fallbacks():
    """An empty key, or fallbacks given as one string, are configuration errors."""
    with pytest.raises(ValueError):
        SecretBox("")
    with pytest.raises(TypeError):
        SecretBox(KEY, fallbacks=OLD_KEY)


@pytest.mark.parametrize(
    ("configured", "expected"),
    [
        (None, []),
        ("", []),
        ([OLD_KEY], [OLD_KEY]),
        (OLD_KEY, [OLD_KEY]),  # SWITCHBOARD_SECRET_KEY_FALLBACKS=<key> arrives as a plain string
        (f"{OLD_KEY}, older-key ,", [OLD_KEY, "older-key"]),
    ],
)
def test_fallback_keys_from_config(configured, expected):
    """SECRET_KEY_FALLBACKS may be a list or a comma-separated string from the environment."""
    assert fallback_keys(configured) == expected


@pytest.mark.parametrize("configured", [OLD_KEY, [OLD_KEY]])
def test_app_secret_box_reads_fallbacks(app_config, configured):
    """The app's SecretBox uses SECRET_KEY and SECRET_KEY_FALLBACKS from config."""
    from backend import create_app

    app = create_app({**app_config, "SECRET_KEY": KEY, "SECRET_KEY_FALLBACKS": configured})
    with app.app_context():
        assert secret_box().decrypt(SecretBox(OLD_KEY).encrypt(API_KEY)) == API_KEY


@pytest.mark.parametrize("app_fixture", ["app", pytest.param("app_pg", marks=pytest.mark.postgres)])
def test_provider_row_stores_only_ciphertext(request, app_fixture):
    """A provider's API key is stored as ciphertext only, as raw SQL shows."""
    app = request.getfixturevalue(app_fixture)
    with app.app_context():
        db.session.add(Tenant(id="tid-crypto", name="Contoso"))
        db.session.add(
            TenantProvider(
                tenant_id="tid-crypto", name="openai", type="openai", api_key_encrypted=secret_box().encrypt(API_KEY)
            )
        )
        db.session.commit()
        row = db.session.execute(text("SELECT * FROM tenant_providers WHERE tenant_id = 'tid-crypto'")).mappings().one()
        stored = row["api_key_encrypted"]
        assert stored and API_KEY not in stored
        assert not any(API_KEY in str(value) for value in row.values())
        assert secret_box().decrypt(stored) == API_KEY
