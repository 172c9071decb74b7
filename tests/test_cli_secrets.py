"""`switchboard secrets rotate`: stored secrets re-encrypted under the current key, so old keys can be dropped."""

from __future__ import annotations

from click.testing import CliRunner
from sqlalchemy import select

from backend.cli import main
from backend.crypto import SecretBox
from backend.extensions import db
from backend.models import TenantProvider
from backend.models.token_cache import UserTokenCache
from tests.conftest import add_tenant_with_user

OLD_KEY = "the-old-secret-key-with-enough-entropy-0123"
NEW_KEY = "the-new-secret-key-with-enough-entropy-4567"


def env_of(app, key: str, fallbacks: str = "") -> dict[str, str]:
    """The operator's environment for the CLI, on the test app's database."""
    return {
        "SWITCHBOARD_INSTANCE_PATH": app.instance_path,
        "SWITCHBOARD_DATABASE_URL": app.config["DATABASE_URL"],
        "SWITCHBOARD_SECRET_KEY": key,
        "SWITCHBOARD_SECRET_KEY_FALLBACKS": fallbacks,
    }


def stored(app) -> tuple[list[str], list[str]]:
    """The encrypted provider keys and token caches as stored."""
    with app.app_context():
        keys = list(db.session.scalars(select(TenantProvider.api_key_encrypted).order_by(TenantProvider.name)))
        caches = list(db.session.scalars(select(UserTokenCache.cache_encrypted)))
        return keys, caches


def test_rotate_re_encrypts_every_stored_secret_so_the_old_key_can_go(app):
    old = SecretBox(OLD_KEY)
    with app.app_context():
        add_tenant_with_user("t1", "u1", "o1")
        add_tenant_with_user("t2", "u2", "o2")
        db.session.add_all(
            [
                TenantProvider(tenant_id="t1", name="a", type="openai", api_key_encrypted=old.encrypt("sk-a")),
                TenantProvider(tenant_id="t2", name="b", type="openai", api_key_encrypted=old.encrypt("sk-b")),
                TenantProvider(tenant_id="t2", name="c", type="openai", api_key_encrypted=None),
                UserTokenCache(tenant_id="t1", object_id="o1", cache_encrypted=old.encrypt('{"cache": 1}')),
            ]
        )
        db.session.commit()
    runner = CliRunner()
    result = runner.invoke(main, ["secrets", "rotate"], env=env_of(app, NEW_KEY, OLD_KEY))
    assert result.exit_code == 0, result.output
    assert "re-encrypted 3 stored secrets" in result.output
    keys, caches = stored(app)
    new = SecretBox(NEW_KEY)  # no fallback: the old key is gone
    assert [new.decrypt(k) for k in keys[:2]] == ["sk-a", "sk-b"] and keys[2] is None
    assert new.decrypt(caches[0]) == '{"cache": 1}'
    assert "sk-a" not in result.output


def test_a_secret_no_configured_key_reads_is_named_and_left_alone(app):
    with app.app_context():
        add_tenant_with_user("t1", "u1", "o1")
        lost = SecretBox("a-key-nobody-has-any-more-0000000000000").encrypt("sk-lost")
        good = SecretBox(OLD_KEY).encrypt("sk-good")
        db.session.add_all(
            [
                TenantProvider(tenant_id="t1", name="lost", type="openai", api_key_encrypted=lost),
                TenantProvider(tenant_id="t1", name="good", type="openai", api_key_encrypted=good),
            ]
        )
        db.session.commit()
    result = CliRunner().invoke(main, ["secrets", "rotate"], env=env_of(app, NEW_KEY, OLD_KEY))
    assert result.exit_code != 0
    assert "t1/lost" in result.output and "sk-lost" not in result.output
    keys, _ = stored(app)
    assert keys[1] == lost  # untouched: "good" sorts first
    assert SecretBox(NEW_KEY).decrypt(keys[0]) == "sk-good"  # the readable one was still rotated
