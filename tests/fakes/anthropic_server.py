"""A fake Anthropic Messages server (JSON and SSE) with injectable faults, including 529 overloaded.

with FakeAnthropic() as server:
    server.fail_next(1, Fault.overloaded())
    AsyncAnthropic(base_url=server.url, api_key="k")
"""

from __future__ import annotations

import json

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

ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}


class FakeAnthropic(FakeServer):
    """Speaks POST /v1/messages: message_start, content_block_*, message_delta with usage, message_stop."""

    @property
    def base_url(self) -> str:
        """The base URL an Anthropic client takes (the root: the SDK adds /v1/messages)."""
        return self.url

    def handle(self, handler: Handler, request: RecordedRequest) -> None:
        """Answer a messages request, or its scripted fault."""
        if request.path != "/v1/messages":
            handler.send_json(404, self._error(404))
            return
        if self.api_key is not None and request.headers.get("x-api-key") != self.api_key:
            handler.send_json(401, self._error(401))
            return
        scripted = self.next_answer()
        fault = scripted.fault
        if fault is not None and fault.kind == "status":
            handler.send_json(fault.status, self._error(fault.status, fault.message), retry_after_headers(fault))
            return
        if answered_with_a_body_fault(handler, fault):
            return
        body = request.body or {}
        texts = [body["system"]] if isinstance(body.get("system"), str) else []
        user_texts = []
        for message in body.get("messages", []):
            text = self._text_of(message.get("content"))
            texts.append(text)
            if message.get("role") == "user":
                user_texts.append(text)
        tokens = split_tokens(self.reply_for(scripted, user_texts[-1] if user_texts else ""))
        limit = body.get("max_tokens")
        stop = "max_tokens" if limit is not None and len(tokens) > limit else "end_turn"
        tokens, stop = tokens_and_reason(fault, tokens[:limit] if limit is not None else tokens, stop)
        input_tokens = count_prompt_tokens(texts)
        model = body.get("model", "")
        if body.get("stream"):
            self._stream(handler, model, tokens, stop, input_tokens, fault)
            return
        if fault is not None and fault.kind == "stall" and not handler.pause(fault.seconds):
            return
        message = self._message(model, [{"type": "text", "text": "".join(tokens)}], stop, input_tokens, len(tokens))
        handler.send_json(200, message)

    def _stream(self, handler: Handler, model: str, tokens: list[str], stop: str, input_tokens: int, fault) -> None:
        """Stream the Messages event sequence; usage appears on message_start and again on message_delta."""
        handler.start_sse()
        if fault is not None and fault.kind == "stall" and not handler.pause(fault.seconds):
            return

        def event(name: str, payload: dict) -> None:
            handler.send_event(json.dumps({"type": name, **payload}), event=name)

        event("message_start", {"message": self._message(model, [], None, input_tokens, 1)})
        event("content_block_start", {"index": 0, "content_block": {"type": "text", "text": ""}})
        event("ping", {})
        empty_delta = {"index": 0, "delta": {"type": "text_delta", "text": ""}}
        if not play_textless_chunks(handler, fault, lambda: event("content_block_delta", empty_delta)):
            return
        completed = play_tokens(
            handler,
            tokens,
            fault,
            send_token=lambda token: event(
                "content_block_delta", {"index": 0, "delta": {"type": "text_delta", "text": token}}
            ),
            send_break=lambda fault: self._send_break(handler, fault),
        )
        if not completed:
            return
        event("content_block_stop", {"index": 0})
        # the real API repeats input_tokens here and gives the cumulative output count: readers take max, not sum
        usage = {"input_tokens": input_tokens, "output_tokens": len(tokens)}
        event("message_delta", {"delta": {"stop_reason": stop, "stop_sequence": None}, "usage": usage})
        event("message_stop", {})
        handler.end_sse()

    def _send_break(self, handler: Handler, fault) -> None:
        """A malformed content_block_delta, or an `event: error` (e.g. overloaded mid-stream)."""
        if fault.kind == "malformed":
            handler.send_event('{"type": "content_block_delta", "ind', "content_block_delta")
        else:
            handler.send_event(json.dumps(self._error(fault.status, fault.message)), "error")

    @staticmethod
    def _message(model: str, content: list, stop: str | None, input_tokens: int, output_tokens: int) -> dict:
        """A Messages API message object."""
        return {
            "id": "msg_fake",
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": content,
            "stop_reason": stop,
            "stop_sequence": None,
            "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens},
        }

    @staticmethod
    def _error(status: int, message: str | None = None) -> dict:
        """An Anthropic error body."""
        error = {"type": ERROR_TYPES.get(status, "api_error"), "message": message or f"fake {status}"}
        return {"type": "error", "error": error}

    @staticmethod
    def _text_of(content) -> str:
        """The text of a message whose content is a string or a list of blocks."""
        if isinstance(content, str):
            return content
        return " ".join(block.get("text", "") for block in content or [] if isinstance(block, dict))
