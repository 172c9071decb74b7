"""`switchboard secrets rotate`: re-encrypt every stored secret under the current SWITCHBOARD_SECRET_KEY.

After a rotation the old key stays in SWITCHBOARD_SECRET_KEY_FALLBACKS so stored values still decrypt; once this
command has re-encrypted them all (tenants' provider keys, users' Graph token caches), the old key can be dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import click


@dataclass
class RotationReport:
    """What a rotation did: values re-encrypted, and the rows no configured key could read (left as they were)."""

    rotated: int = 0
    unreadable: list[str] = field(default_factory=list)  # "tenant/provider" or "tenant/user": never a value


def rotate_stored_secrets() -> RotationReport:
    """Re-encrypt every stored secret under the current key, each table in one transaction (inside an app)."""
    from sqlalchemy import select

    from backend.crypto import SecretDecryptionError, secret_box
    from backend.extensions import db
    from backend.models import TenantProvider
    from backend.models.token_cache import UserTokenCache
    from backend.tenancy import unscoped

    box, report = secret_box(), RotationReport()
    tables = (
        (TenantProvider, "api_key_encrypted", lambda row: f"{row.tenant_id}/{row.name}"),
        (UserTokenCache, "cache_encrypted", lambda row: f"{row.tenant_id}/{row.object_id}"),
    )
    with unscoped():  # every tenant's rows, deliberately
        for model, column, label in tables:
            for row in db.session.scalars(select(model).where(getattr(model, column).is_not(None))):
                try:
                    setattr(row, column, box.rotate(getattr(row, column)))
                    report.rotated += 1
                except SecretDecryptionError:
                    report.unreadable.append(label(row))
            db.session.commit()
    return report


@click.group("secrets")
def secrets_group() -> None:
    """Stored secrets (tenants' provider keys, users' Graph token caches)."""


@secrets_group.command("rotate")
def rotate() -> None:
    """Re-encrypt every stored secret under SWITCHBOARD_SECRET_KEY, so old keys can leave the fallbacks."""
    from backend.cli.context import migrated_app

    with migrated_app().app_context():
        report = rotate_stored_secrets()
    click.echo(f"re-encrypted {report.rotated} stored secrets under the current key")
    if report.unreadable:
        names = ", ".join(report.unreadable)
        raise click.ClickException(
            f"{len(report.unreadable)} could not be decrypted with any configured key and were left as they were "
            f"({names}): set their keys again, or add the key they were made with to SWITCHBOARD_SECRET_KEY_FALLBACKS"
        )


COMMANDS = [secrets_group]
