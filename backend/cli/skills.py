"""`switchboard skills ...`: list the skills the server would load, scaffold a new one, run a skill's tests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click

# The server reads SWITCHBOARD_SKILLS_DIR too: with it set, these commands work on the skills the server would load.
DIR_OPTION = click.option(
    "--dir",
    "skills_dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="SWITCHBOARD_SKILLS_DIR",
    help="Skills folder [default: $SWITCHBOARD_SKILLS_DIR, else skills/].",
)


def _skills_dir(skills_dir: Path | None) -> Path:
    """The folder given, or the repository's skills/."""
    from backend.skills.loader import default_skills_dir

    return skills_dir or default_skills_dir()


@click.group("skills")
def skills_group() -> None:
    """Skill developer commands."""


@skills_group.command("list")
@click.option("--host", type=click.Choice(["word", "excel"]), help="Only the skills of one host.")
@DIR_OPTION
def list_skills(host: str | None, skills_dir: Path | None) -> None:
    """List the skills that load; print each broken one with its file and problem (exit status 1)."""
    from backend.skills.loader import discover

    result = discover(_skills_dir(skills_dir))
    for skill_id, skill in sorted(result.skills.items()):
        spec = skill.spec
        if host is None or host in spec.hosts:
            job = " (job)" if spec.long_running else ""
            click.echo(f"{skill_id:<20} {','.join(spec.hosts):<11} {spec.output:<6} {spec.name}{job}")
    for error in result.errors:
        click.echo(f"error: {error}", err=True)
    if result.errors:
        sys.exit(1)


@skills_group.command("new")
@click.argument("name")
@click.option("--host", type=click.Choice(["word", "excel"]), default="word", show_default=True)
@click.option("--kind", type=click.Choice(["prompt", "native"]), default="prompt", show_default=True)
@DIR_OPTION
def new_skill(name: str, host: str, kind: str, skills_dir: Path | None) -> None:
    """Create skills/NAME with skill.yaml, prompt.yaml, a plugin (--kind native) and a passing test."""
    from backend.skills.scaffold import create_skill

    try:
        folder = create_skill(_skills_dir(skills_dir), name, host, kind)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"created {folder}")
    where = f" --dir {skills_dir}" if skills_dir else ""
    click.echo(f"next: edit {folder / 'prompt.yaml'}, then run: switchboard skills test {name}{where}")


@skills_group.command("test")
@click.argument("name", required=False)
@click.option("--provider", "provider_name", help="Run the skills' examples on this provider of the catalog instead.")
@click.option("--model", "model_id", help="With --provider: the model id to use [default: its first model].")
@DIR_OPTION
def test_skill(name: str | None, provider_name: str | None, model_id: str | None, skills_dir: Path | None) -> None:
    """Run the golden tests of skill NAME (or of every skill) against the fake model, or its examples on --provider."""
    folder = _skills_dir(skills_dir)
    target = folder / name if name else folder
    if not target.is_dir():
        raise click.ClickException(f"no skill folder {target}")
    if model_id and not provider_name:
        raise click.ClickException("--model needs --provider")
    if provider_name:
        from backend.cli.skills_live import run_live

        sys.exit(0 if run_live(_loaded_skills(folder, name), provider_name, model_id) else 1)
    completed = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(target)])  # noqa: S603
    sys.exit(completed.returncode)


def _loaded_skills(folder: Path, name: str | None) -> list:
    """The skill NAME (or every skill) as the server loads it; a load error of a selected skill stops the run."""
    from backend.skills.loader import discover

    result = discover(folder)
    errors = [e for e in result.errors if name is None or e.path.parent.name == name]
    if errors:
        raise click.ClickException("; ".join(str(e) for e in errors))
    if name is None:
        return [result.skills[skill_id] for skill_id in sorted(result.skills)]
    if name not in result.skills:
        raise click.ClickException(f"no skill '{name}' in {folder}")
    return [result.skills[name]]


COMMANDS = [skills_group]
