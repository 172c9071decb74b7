"""`switchboard jobs ...`: retention (purge expired content) and recovery (requeue jobs no worker runs)."""

from __future__ import annotations

import click


@click.group("jobs")
def jobs_group() -> None:
    """Long-running jobs: retention and recovery."""


@jobs_group.command("purge")
def purge() -> None:
    """Delete the input, output and steps of finished jobs older than JOB_RETENTION_DAYS."""
    from backend.cli.context import migrated_app
    from backend.jobs.retention import purge_expired_jobs

    with migrated_app().app_context():
        click.echo(f"purged {purge_expired_jobs()} jobs")


@jobs_group.command("requeue")
@click.option("--stale-seconds", type=float, default=None, help="Heartbeat age of a dead job [JOB_STALE_SECONDS].")
@click.option("--queued-seconds", type=float, default=300.0, show_default=True,
              help="Also requeue jobs queued (never started) for this long.")  # fmt: skip
def requeue(stale_seconds: float | None, queued_seconds: float) -> None:
    """Queue again running jobs whose worker died, and queued jobs whose message was lost."""
    from backend.cli.context import migrated_app
    from backend.jobs.recovery import requeue_stale_jobs

    app = migrated_app()
    with app.app_context():
        stale = stale_seconds if stale_seconds is not None else float(app.config["JOB_STALE_SECONDS"])
        requeued = requeue_stale_jobs(stale, queued_seconds)
        for job_id in requeued:
            click.echo(job_id)  # one id a line on stdout, for scripts
        click.echo(f"requeued {len(requeued)} jobs", err=True)  # like purge's count, for a person


COMMANDS = [jobs_group]
