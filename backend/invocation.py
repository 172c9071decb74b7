"""Running one skill for one caller: check, build the prompt, dispatch to a model, parse and sanitise the answer.

`invoke_once` answers in one piece (JSON); `invoke_streaming` yields the contract's SSE events in order:
meta, delta..., then done (or error). Structured skills (json, edits, table) and non-streaming ones never stream
text: their stream is meta then done, after validation and at most one repair call, with keepalives while each call
waits for its model and the call cancelled if the client leaves.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask import current_app

from backend.admin.settings import settings_row
from backend.asyncbridge import SILENCE, Silence
from backend.auth.ttlcache import hot_cache
from backend.dispatch import Dispatcher, DispatchRequest, DispatchResult, run_to_end
from backend.errors import ApiError
from backend.extensions import db
from backend.skills import current_skills
from backend.skills.runtime import Skill
from backend.skills.structured import ModelOutputError, OutputInvalid, OutputTruncated, repair_request


@dataclass
class Invocation:
    """A checked request to run a skill: the skill, the caller, the input and the tenant's dispatcher."""

    skill: Skill
    tenant_id: str
    user_id: str
    data: dict[str, Any]
    dispatcher: Dispatcher

    def dispatch_request(self, chat, streaming: bool = False) -> DispatchRequest:
        """The dispatcher's request for one chat of this skill."""
        needs = self.skill.spec.model
        return DispatchRequest(
            tenant_id=self.tenant_id,
            user_id=self.user_id,
            skill_id=self.skill.spec.id,
            chat=chat,
            sensitivity=self.data.get("sensitivity") or "general",
            capabilities=frozenset(self.skill.needed_capabilities(streaming)),
            preferred_tier=needs.preferred_tier,
        )

    def model_document(self, info: dict[str, Any]) -> dict[str, Any]:
        """The contract's model object, with the provider's notice (the bundled demo model says what it is)."""
        provider = self.dispatcher.catalog.providers.get(info.get("provider"))
        notice = provider.extra.get("notice") if provider is not None else None
        return {**info, "notice": notice} if notice else info

    @property
    def link_hosts(self) -> tuple[str, ...]:
        """Hosts whose links may stay in answers shown in the task pane."""
        return tuple(current_app.config.get("OUTPUT_LINK_HOSTS") or ())


def prepare(skill_id: str, tenant_id: str, user_id: str, data: Any) -> Invocation:
    """Find the skill, refuse what may not run (404 unknown, 403 disabled, 409 jobs only, 422/413 input)."""
    skill = current_skills().get(skill_id)
    if skill is None:
        raise ApiError(404, "unknown_skill", "No skill has this id.")
    settings = tenant_settings(tenant_id)
    if skill_id in (settings.disabled_skills or []):
        raise ApiError(403, "skill_disabled", "Your organisation has turned this skill off.")
    if skill.spec.long_running:
        raise ApiError(409, "use_a_job", "This skill runs in the background: create a job with POST /api/jobs.")
    if not isinstance(data, dict):
        raise ApiError(400, "bad_request", "`input` must be an object.")
    skill.check_input(data)
    dispatcher = Dispatcher.for_tenant(current_app._get_current_object(), tenant_id, settings)
    db.commit_if_open()  # end the request's transaction: accounting writes on other connections must not wait on it
    return Invocation(skill, tenant_id, user_id, data, dispatcher)


def tenant_settings(tenant_id: str) -> Any:
    """The tenant's settings row, read at most every HOT_CACHE_SECONDS per process (and again at once after this
    process writes one). The cached row is detached from every session: it is only ever read."""
    cache = hot_cache(current_app, "settings")
    row = cache.get(tenant_id)
    if row is None:
        row = settings_row(tenant_id)
        db.session.expunge(row)
        cache.put(tenant_id, row)
    return row


def usage_document(results: list[DispatchResult]) -> dict[str, Any]:
    """The contract's usage object, summed over the calls one answer took (a repair is a second call)."""
    return {
        "input_tokens": sum(r.usage.input_tokens for r in results),
        "output_tokens": sum(r.usage.output_tokens for r in results),
        "cost_usd": float(sum((r.cost_usd for r in results), Decimal(0))),
    }


def answer_document(invocation: Invocation, output: Any, results: list[DispatchResult]) -> dict[str, Any]:
    """The finished answer as the contract gives it (the JSON body, the SSE `done` event): its output, the model of
    the last call, the usage of every call, and whether the output limit cut the last answer off."""
    last = results[-1]
    model = invocation.model_document(last.model_info())
    return {"output": output, "model": model, "usage": usage_document(results), "truncated": last.cut_off}


def invoke_once(invocation: Invocation) -> dict[str, Any]:
    """Run the skill and answer in one piece: {run_id, output, model, usage, truncated}."""
    output, results = _complete(invocation)
    return {"run_id": results[-1].run_id, **answer_document(invocation, output, results)}


def _complete(invocation: Invocation) -> tuple[Any, list[DispatchResult]]:
    """`_answer_in_one_piece` for an answer in one piece (JSON): nothing to report while the model works."""
    return run_to_end(_answer_in_one_piece(invocation))


def _answer_in_one_piece(
    invocation: Invocation, silence: Silence | None = None
) -> Generator[object, None, tuple[Any, list[DispatchResult]]]:
    """One call, and for a structured skill whose answer does not validate, one repair call (none for an answer the
    output limit cut off: the repair would be cut off too); returns the output and the calls' results. With a
    silence (an SSE stream) it yields SILENCE while each call waits for its model; closing it (the client gone)
    cancels the call in flight, which is recorded as cancelled."""
    skill, dispatcher = invocation.skill, invocation.dispatcher
    chat = skill.build_request(invocation.data)
    results = [(yield from dispatcher.answer_in_one_piece(invocation.dispatch_request(chat), silence))]
    try:
        return skill.parse_output(results[0].text, invocation.data, invocation.link_hosts), results
    except OutputInvalid as problem:
        _refuse_cut_off(invocation, results[0])
        repair = repair_request(chat, results[0].text, str(problem), skill.spec.response_schema)
    results.append((yield from dispatcher.answer_in_one_piece(invocation.dispatch_request(repair), silence)))
    try:
        return skill.parse_output(results[1].text, invocation.data, invocation.link_hosts), results
    except OutputInvalid as problem:
        _refuse_cut_off(invocation, results[1])
        raise ModelOutputError(skill.spec.id, problem.public) from None


def _refuse_cut_off(invocation: Invocation, result: DispatchResult) -> None:
    """An invalid answer that the output limit cut off is output_truncated (502), not a shape to repair."""
    if result.cut_off:
        spec = invocation.skill.spec
        raise OutputTruncated(spec.id, spec.max_output_tokens, spec.large_input_job)


def invoke_streaming(invocation: Invocation, silence: Silence | None = None) -> Iterator[tuple[str, Any] | object]:
    """The SSE events of one run, and SILENCE whenever `silence` (noted by the SSE writer) was not noted for its
    seconds while the model thinks or its text is held back. Errors before the first event raise (the view answers
    with an HTTP error)."""
    if invocation.skill.spec.response_format != "text" or not invocation.skill.spec.streaming:
        output, results = yield from _answer_in_one_piece(invocation, silence)
        answer = answer_document(invocation, output, results)
        yield "meta", {"run_id": results[-1].run_id, "model": answer["model"]}
        yield "done", answer
        return
    skill, data = invocation.skill, invocation.data
    sanitizer = skill.stream_sanitizer(data, invocation.link_hosts)
    request = invocation.dispatch_request(skill.build_request(data), streaming=True)
    events = invocation.dispatcher.stream(request, silence)
    try:
        for kind, value in events:
            if kind == "quiet":
                yield SILENCE
            elif kind == "meta":
                yield "meta", {**value, "model": invocation.model_document(value["model"])}
            elif kind == "delta":
                text = sanitizer.feed(value)  # nothing while text is held back (an open tag, a diverged answer)
                if text:
                    yield "delta", {"text": text}
            elif kind == "done":
                tail = sanitizer.flush()
                if tail:
                    yield "delta", {"text": tail}
                yield "done", answer_document(invocation, sanitizer.finish(), [value])
    finally:
        events.close()
