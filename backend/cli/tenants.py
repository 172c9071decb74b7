"""`switchboard tenants ...`: onboard, list, disable, enable tenants and grant the admin role (operators)."""

from __future__ import annotations

import click


def _run(action):
    """Run an onboarding action inside the operator's app, turning its refusals into CLI errors."""
    from backend.auth.onboarding import OnboardingError
    from backend.cli.context import migrated_app

    app = migrated_app()
    with app.app_context():
        try:
            return action()
        except OnboardingError as exc:
            raise click.ClickException(str(exc)) from None


@click.group("tenants")
def tenants_group() -> None:
    """Tenant onboarding and status."""


@tenants_group.command("add")
@click.argument("tenant_id")
@click.option("--name", required=True, help="A name for people (the organisation).")
@click.option("--pending", is_flag=True, help="Record the tenant without letting its users in yet.")
def add(tenant_id: str, name: str, pending: bool) -> None:
    """Onboard TENANT_ID (the Entra directory id), active unless --pending."""
    from backend.auth.onboarding import add_tenant

    tenant = _run(lambda: add_tenant(tenant_id.lower(), name, "pending" if pending else "active"))
    click.echo(f"{tenant.id}\t{tenant.status}\t{tenant.name}")


@tenants_group.command("list")
def list_tenants() -> None:
    """List tenants: id, status, name."""
    from sqlalchemy import select

    from backend.extensions import db
    from backend.models import Tenant

    rows = _run(lambda: db.session.execute(select(Tenant).order_by(Tenant.created_at)).scalars().all())
    for tenant in rows:
        click.echo(f"{tenant.id}\t{tenant.status}\t{tenant.name}")


@tenants_group.command("disable")
@click.argument("tenant_id")
def disable(tenant_id: str) -> None:
    """Disable TENANT_ID: its users are refused (403) from their next request."""
    from backend.auth.onboarding import set_tenant_status

    tenant = _run(lambda: set_tenant_status(tenant_id.lower(), "disabled"))
    click.echo(f"{tenant.id}\t{tenant.status}")


@tenants_group.command("enable")
@click.argument("tenant_id")
def enable(tenant_id: str) -> None:
    """Enable TENANT_ID (also activates a pending tenant)."""
    from backend.auth.onboarding import set_tenant_status

    tenant = _run(lambda: set_tenant_status(tenant_id.lower(), "active"))
    click.echo(f"{tenant.id}\t{tenant.status}")


@tenants_group.command("grant-admin")
@click.argument("tenant_id")
@click.argument("object_id")
@click.option("--revoke", is_flag=True, help="Take the role away instead.")
def grant_admin(tenant_id: str, object_id: str, revoke: bool) -> None:
    """Grant tenant_admin to the user OBJECT_ID of TENANT_ID (in addition to the Entra app role)."""
    from backend.auth.onboarding import grant_admin as grant

    user = _run(lambda: grant(tenant_id.lower(), object_id.lower(), granted=not revoke))
    click.echo(f"{tenant_id.lower()}\t{user.object_id}\tadmin_granted={user.admin_granted}")


@tenants_group.command("consent-url")
@click.argument("tenant_id")
@click.option("--redirect-uri", required=True, help="This server's public /api/auth/consent/callback URL.")
def consent_url(tenant_id: str, redirect_uri: str) -> None:
    """Print the admin-consent URL to send to TENANT_ID's administrator (valid 7 days)."""
    from backend.auth.onboarding import admin_consent_url

    click.echo(_run(lambda: admin_consent_url(tenant_id.lower(), redirect_uri)))


COMMANDS = [tenants_group]
