"""`switchboard skills test --provider NAME`: run each skill's `examples:` against a real provider of the catalog.

Each example goes through `Skill.invoke` (input check, spotlighting, one repair) with a callable that calls the
provider for real; the report line says ok with tokens and latency, or the clean error kind. Long-running skills are
skipped with a note: they run as jobs (map over parts, then reduce), which `POST /api/jobs` exercises.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from typing import Any

import click

from backend.providers.base import ModelSpec, ProviderConfig, Usage

PREVIEW_CHARS = 80
LONG_RUNNING_NOTE = "long-running, runs as a job (try it with POST /api/jobs)"
# They log a line at INFO for every HTTP call and every usage report: that would bury the one line per example.
CALL_LOGGERS = ("httpx2", "httpx", "semantic_kernel")


@dataclass
class Outcome:
    """What one example produced: ok or the error kind, tokens over every call, seconds, and a short preview."""

    ok: bool
    detail: str  # a preview of the output, or the error kind with its message
    usage: Usage
    seconds: float


def preview(output: Any) -> str:
    """One short line of an output: the text (or its JSON) squashed to PREVIEW_CHARS characters."""
    text = output if isinstance(output, str) else json.dumps(output, ensure_ascii=False, default=str)
    text = " ".join(text.split())
    return text if len(text) <= PREVIEW_CHARS else text[: PREVIEW_CHARS - 1] + "…"


def resolve_provider(provider_name: str, model_id: str | None) -> tuple[ProviderConfig, ModelSpec]:
    """The named provider of the operator's platform catalog and its model (the first one unless --model)."""
    from backend.catalog import CatalogError, platform_catalog
    from backend.cli.context import cli_app

    with cli_app().app_context():
        try:
            catalog = platform_catalog()
        except (CatalogError, OSError) as exc:
            raise click.ClickException(f"the providers file cannot be used: {exc}") from None
    config = catalog.providers.get(provider_name)
    if config is None:
        known = ", ".join(sorted(catalog.providers)) or "none: set SWITCHBOARD_PROVIDERS_FILE"
        raise click.ClickException(f"unknown provider '{provider_name}' (the catalog has: {known})")
    models = {m.id: m for m in config.models}
    if model_id is not None and model_id not in models:
        listed = ", ".join(models)
        raise click.ClickException(f"provider '{provider_name}' has no model '{model_id}' (it has: {listed})")
    if not models:
        raise click.ClickException(f"provider '{provider_name}' lists no models")
    return config, models[model_id] if model_id else config.models[0]


def run_example(skill: Any, data: dict[str, Any], provider: Any, model: ModelSpec) -> Outcome:
    """Invoke the skill once on a real provider; any failure becomes its clean kind, never a traceback."""
    from backend.asyncbridge import run_sync
    from backend.errors import ApiError
    from backend.providers.base import ProviderError

    usage = Usage()

    def complete(request):
        """Answer one ChatRequest with the provider's text, adding up tokens (a repair makes a second call)."""
        completion = run_sync(provider.complete(model, request))
        usage.input_tokens += completion.usage.input_tokens
        usage.output_tokens += completion.usage.output_tokens
        return completion.text

    started = time.perf_counter()
    try:
        output = skill.invoke(data, complete)
    except ProviderError as exc:  # its message never holds the key, the prompt or the answer
        return Outcome(False, f"{exc.kind}: {exc}", usage, time.perf_counter() - started)
    except ApiError as exc:  # invalid_model_output after the repair, or an input the skill refuses
        problem = exc.details.get("problem") if isinstance(exc.details, dict) else None
        detail = f"{exc.code}: {exc.message}" + (f" ({preview(problem)})" if problem else "")
        return Outcome(False, detail, usage, time.perf_counter() - started)
    return Outcome(True, preview(output), usage, time.perf_counter() - started)


def run_live(skills: list[Any], provider_name: str, model_id: str | None) -> bool:
    """Run every example of the skills on the provider, print one line each and a summary; True if none failed."""
    from backend.asyncbridge import run_sync
    from backend.providers import PROVIDERS, build_provider

    config, model = resolve_provider(provider_name, model_id)
    if config.type not in PROVIDERS:
        raise click.ClickException(f"provider type '{config.type}' is not available (its SDK is not installed)")
    provider = build_provider(config)
    for name in CALL_LOGGERS:  # a one-shot command: warnings still show
        logging.getLogger(name).setLevel(logging.WARNING)
    click.echo(f"running examples on {model.ref}")
    counts = {"ok": 0, "failed": 0, "skipped": 0}
    width = max((len(f"{s.spec.id}/{e.name}") for s in skills for e in s.spec.examples), default=20)
    try:
        for skill in skills:
            spec = skill.spec
            if spec.long_running or not spec.examples:
                why = LONG_RUNNING_NOTE if spec.long_running else "no examples"
                click.echo(f"{spec.id:<{width}} skipped: {why}")
                counts["skipped"] += 1
                continue
            for example in spec.examples:
                outcome = run_example(skill, example.input, provider, model)
                counts["ok" if outcome.ok else "failed"] += 1
                status = "ok    " if outcome.ok else "FAILED"
                tokens = f"{outcome.usage.input_tokens}+{outcome.usage.output_tokens} tokens"
                label = f"{spec.id}/{example.name}"
                click.echo(f"{label:<{width}} {status} {tokens:>16} {outcome.seconds:6.2f}s  {outcome.detail}")
    finally:
        run_sync(provider.aclose())
    click.echo(f"examples: {counts['ok']} ok, {counts['failed']} failed; skills skipped: {counts['skipped']}")
    return counts["failed"] == 0
