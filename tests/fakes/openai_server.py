"""A fake OpenAI Chat Completions server (also on Azure's deployment path) with injectable faults.

with FakeOpenAI() as server:
    server.script(reply="Hello there", fault=Fault.stall(2.0))
    AsyncOpenAI(base_url=server.base_url, api_key="k")  # Azure: azure_endpoint=server.url
"""

from __future__ import annotations

import json
import re
import time

from tests.fakes.common import (
    FakeServer,
    Handler,
    RecordedRequest,
    count_prompt_tokens,
    split_tokens,
)
from tests.fakes.faults import (
    answered_with_a_body_fault,
    play_textless_chunks,
    play_tokens,
    retry_after_headers,
    tokens_and_reason,
)

AZURE_PATH = re.compile(r"^/openai/deployments/(?P<deployment>[^/]+)/chat/completions$")
ERROR_TYPES = {400: "invalid_request_error", 401: "invalid_api_key", 403: "permission_denied", 429: "rate_limit"}


# What Azure sends first on every stream, before any choice: its verdicts on the prompt, with `choices: []`.
AZURE_PROMPT_FILTER_RESULTS = [
    {"prompt_index": 0, "content_filter_results": {"hate": {"filtered": False, "severity": "safe"}}}
]


class FakeOpenAI(FakeServer):
    """Speaks POST /v1/chat/completions (JSON and SSE, final usage chunk) and the Azure deployment path.

    `reports_usage=False` is a server that never reports usage: no `usage` in JSON answers, and `stream_options`
    ignored (no final usage chunk), as some llama.cpp, Ollama and proxy versions do.
    """

    def __init__(self, default_reply: str | None = None, api_key: str | None = None, reports_usage: bool = True):
        super().__init__(default_reply, api_key)
        self.reports_usage = reports_usage

    @property
    def base_url(self) -> str:
        """The base URL an OpenAI client takes (…/v1)."""
        return f"{self.url}/v1"

    def handle(self, handler: Handler, request: RecordedRequest) -> None:
        """Answer a chat completion request, or its scripted fault."""
        model = self._model_of(request)
        if model is None:
            handler.send_json(404, {"error": {"message": "Not found", "type": "invalid_request_error"}})
            return
        if self.api_key is not None and self._key_of(request) != self.api_key:
            handler.send_json(401, {"error": {"message": "Incorrect API key", "type": "invalid_api_key"}})
            return
        scripted = self.next_answer()
        fault = scripted.fault
        if fault is not None and fault.kind == "status":
            handler.send_json(fault.status, {"error": self._error_object(fault)}, retry_after_headers(fault))
            return
        if answered_with_a_body_fault(handler, fault):
            return
        body = request.body or {}
        messages = body.get("messages", [])
        texts = [m.get("content") or "" for m in messages if isinstance(m.get("content"), str)]
        user_texts = [m["content"] for m in messages if m.get("role") == "user" and isinstance(m.get("content"), str)]
        tokens = split_tokens(self.reply_for(scripted, user_texts[-1] if user_texts else ""))
        limit = body.get("max_completion_tokens") or body.get("max_tokens")
        finish = "length" if limit is not None and len(tokens) > limit else "stop"
        tokens, finish = tokens_and_reason(fault, tokens[:limit] if limit is not None else tokens, finish)
        usage = {
            "prompt_tokens": count_prompt_tokens(texts),
            "completion_tokens": len(tokens),
            "total_tokens": count_prompt_tokens(texts) + len(tokens),
        }
        if body.get("stream"):
            self._stream(
                handler, model, tokens, finish, usage, body, fault, azure=request.path != "/v1/chat/completions"
            )
            return
        if fault is not None and fault.kind == "stall" and not handler.pause(fault.seconds):
            return
        message = {"role": "assistant", "content": "".join(tokens)}
        choice = {"index": 0, "message": message, "finish_reason": finish, "logprobs": None}
        reported = {"usage": usage} if self.reports_usage else {}
        handler.send_json(200, self._envelope("chat.completion", model, choices=[choice], **reported))

    def _stream(self, handler: Handler, model: str, tokens, finish, usage, body, fault, azure: bool) -> None:
        """Stream (Azure: its prompt filter results first) role chunk, tokens, finish chunk, the usage chunk when
        asked for, and [DONE]."""
        handler.start_sse()
        if fault is not None and fault.kind == "stall" and not handler.pause(fault.seconds):
            return
        if azure:
            prompt_filter = {"id": "", "object": "", "created": 0, "model": "", "choices": []}
            handler.send_event(json.dumps(prompt_filter | {"prompt_filter_results": AZURE_PROMPT_FILTER_RESULTS}))

        def chunk(delta: dict, finish_reason: str | None = None) -> str:
            choice = {"index": 0, "delta": delta, "finish_reason": finish_reason, "logprobs": None}
            return json.dumps(self._envelope("chat.completion.chunk", model, choices=[choice]))

        handler.send_event(chunk({"role": "assistant", "content": ""}))
        if not play_textless_chunks(handler, fault, lambda: handler.send_event(chunk({"reasoning_content": "hmm "}))):
            return
        completed = play_tokens(
            handler,
            tokens,
            fault,
            send_token=lambda token: handler.send_event(chunk({"content": token})),
            send_break=lambda fault: handler.send_event(self._break_event(fault)),
        )
        if not completed:
            return
        handler.send_event(chunk({}, finish))
        if self.reports_usage and (body.get("stream_options") or {}).get("include_usage"):
            handler.send_event(json.dumps(self._envelope("chat.completion.chunk", model, choices=[], usage=usage)))
        handler.send_event("[DONE]")
        handler.end_sse()

    @staticmethod
    def _break_event(fault) -> str:
        """The data of a malformed chunk, or of an in-stream error object."""
        if fault.kind == "malformed":
            return '{"id": "chatcmpl-fake", "choices": [{"delta": {"content'
        message = fault.message or "fake in-stream error"
        if fault.status == 429:  # what OpenAI sends: the limit hit as the type, the reason as the code
            error = {"message": message, "type": "tokens", "code": "rate_limit_exceeded"}
        else:
            error = {"message": message, "type": ERROR_TYPES.get(fault.status, "server_error"), "code": fault.code}
        return json.dumps({"error": error})

    @staticmethod
    def _error_object(fault) -> dict:
        """The `error` object of an error status: Azure's content filter answer carries its code and verdicts."""
        error = {"message": fault.message or f"fake status {fault.status}", "type": ERROR_TYPES.get(fault.status, "x")}
        if fault.code == "content_filter":
            verdict = {"filtered": True, "severity": "high"}
            inner = {"code": "ResponsibleAIPolicyViolation", "content_filter_result": {"violence": verdict}}
            return error | {
                "type": None,
                "param": "prompt",
                "code": "content_filter",
                "status": 400,
                "innererror": inner,
            }
        return error | {"code": fault.code}

    @staticmethod
    def _envelope(kind: str, model: str, **fields) -> dict:
        """The fields every completion object carries."""
        return {"id": "chatcmpl-fake", "object": kind, "created": int(time.time()), "model": model, **fields}

    @staticmethod
    def _model_of(request: RecordedRequest) -> str | None:
        """The model asked for: the body's model on /v1, the deployment on Azure's path (which needs api-version)."""
        if request.path == "/v1/chat/completions":
            return (request.body or {}).get("model", "")
        match = AZURE_PATH.match(request.path)
        if match and "api-version" in request.query:
            return match.group("deployment")
        return None

    @staticmethod
    def _key_of(request: RecordedRequest) -> str | None:
        """The API key sent: Bearer token (OpenAI) or api-key header (Azure)."""
        if "api-key" in request.headers:
            return request.headers["api-key"]
        auth = request.headers.get("authorization", "")
        return auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else None
