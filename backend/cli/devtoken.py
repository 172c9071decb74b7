"""`switchboard dev-token`: print a locally signed access token (dev auth mode only)."""

from __future__ import annotations

import click


@click.command("dev-token")
@click.option("--tenant", "tenant_id", default=None, help="Tenant id (GUID); default: the dev tenant.")
@click.option("--user", default="dev-user", show_default=True, help="User name (or object id GUID).")
@click.option("--role", "roles", multiple=True, type=click.Choice(["tenant_admin"]), help="Extra role.")
@click.option("--lifetime", default=3600, show_default=True, type=int, help="Seconds until the token expires.")
def dev_token(tenant_id: str | None, user: str, roles: tuple[str, ...], lifetime: int) -> None:
    """Print a dev token alone on stdout (needs SWITCHBOARD_AUTH_MODE=dev); the dev tenant is onboarded on first use."""
    from backend.auth.dev import DevModeRefused, ensure_dev_tenant, mint_dev_token
    from backend.auth.keys import is_dev_mode
    from backend.cli.context import migrated_app

    app = migrated_app()
    if not is_dev_mode(app):
        raise click.ClickException("dev-token needs SWITCHBOARD_AUTH_MODE=dev")
    with app.app_context():
        tenant_id = (tenant_id or app.config["AUTH_DEV_TENANT_ID"]).lower()
        try:
            ensure_dev_tenant(tenant_id, name="Dev tenant")
            token = mint_dev_token(tenant_id, user, roles, lifetime)
        except (DevModeRefused, ValueError) as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(token)


COMMANDS = [dev_token]
