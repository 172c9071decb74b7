"""The shared body of every provider: call an SK chat connector with timeouts, normalise usage, map errors.

Subclasses say how to build their SDK client, their SK service and their execution settings; the rest (first-token
and total timeouts around the stream, partial usage on a cut stream, the error mapping) lives here once.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from backend.providers.base import (
    CONTENT_FILTERED,
    ChatRequest,
    Completion,
    ModelSpec,
    ProviderConfig,
    ProviderError,
    StreamChunk,
)
from backend.providers.errors import map_exception, refuse_web_pages
from backend.providers.sk_services import chat_history
from backend.providers.stream_responses import close_responses, note_response, noting_responses
from backend.providers.surrogates import SurrogateJoiner
from backend.providers.usage import merge_usage, normalise_usage, usage_or_estimate


class SKChatProvider:
    """A provider whose calls go through one Semantic Kernel chat connector and one injected SDK client."""

    def __init__(self, config: ProviderConfig):
        self.config = config
        self._client: Any = None  # created on first call: no connection, no SK import at construction
        self._services: dict[tuple[str, bool], Any] = {}
        self._calls_in_flight = 0  # all on the process's one bridge loop: no lock needed
        self._closing = False  # aclose() was asked for: the client is closed whenever no call is using it

    # -- what each provider file supplies -------------------------------------------------------------------
    @staticmethod
    def sdk() -> Any:
        """The lazily loaded namespace of SDK and SK classes this provider uses (must include `Timeout`)."""
        raise NotImplementedError

    def build_client(self, timeout: Any) -> Any:
        """The SDK client for this provider's endpoint and key, with `client_options(timeout)`."""
        raise NotImplementedError

    def build_service(self, model: ModelSpec, client: Any) -> Any:
        """The SK chat connector for one model on this client."""
        raise NotImplementedError

    def execution_settings(self, model: ModelSpec, request: ChatRequest) -> Any:
        """SK execution settings for the request: model, max tokens, temperature, structured output."""
        raise NotImplementedError

    def ends_stream(self, message: Any) -> bool:
        """Whether a streamed message can only come at the end of a finished answer, so the answer is whole even if
        no chunk said why the model stopped. None by default: without a finish reason a stream was cut."""
        return False

    # -- the Provider protocol -------------------------------------------------------------------------------
    async def complete(self, model: ModelSpec, request: ChatRequest) -> Completion:
        """Answer in one piece within the total timeout."""
        where = f"{self.config.name}/{model.id}"
        service = self._service(model, streaming=False)
        history, settings = chat_history(request), self.execution_settings(model, request)
        self._calls_in_flight += 1
        try:
            async with asyncio.timeout(self.config.timeouts.total):
                results = await service.get_chat_message_contents(history, settings)
        except Exception as exc:  # noqa: BLE001 - every failure becomes a ProviderError kind
            raise map_exception(exc, where) from None
        finally:
            await self._call_ended()
        if not results:
            raise ProviderError("protocol", f"{where}: empty answer")
        message = results[0]
        text = message.content or ""
        usage = usage_or_estimate(normalise_usage(message.metadata.get("usage")), request.messages, text, True)
        if _finish_reason(message) == CONTENT_FILTERED:
            raise content_filtered(where, usage)
        return Completion(text=text, usage=usage, finish_reason=_finish_reason(message))

    async def stream(self, model: ModelSpec, request: ChatRequest) -> AsyncIterator[StreamChunk]:
        """Stream text chunks, then one chunk with usage; a failure after text raises with the usage so far."""
        where = f"{self.config.name}/{model.id}"
        service = self._service(model, streaming=True)  # the first call of a process imports SK: before the clock
        chunks = service.get_streaming_chat_message_contents(
            chat_history(request), self.execution_settings(model, request)
        )
        # Two deadlines, both from the start of the call: the first text within `first_token` (chunks without text,
        # such as a reasoning model's thinking or a proxy's keepalives, do not count as an answer starting), and the
        # whole answer within `total`. Between chunks the SDK client's read timeout (`first_token` seconds between
        # bytes, see `_service`) still applies, so a stream that stalls midway ends well before the total timeout.
        loop = asyncio.get_running_loop()
        started = loop.time()
        deadline = started + self.config.timeouts.total
        first_text_deadline = min(deadline, started + self.config.timeouts.first_token)
        received: list[str] = []
        halves = SurrogateJoiner()  # an emoji's two UTF-16 halves may come in two chunks
        reported = None
        reason: str | None = None
        ended = False  # a message only a finished answer sends arrived (see `ends_stream`)
        responses: list[Any] = []  # the HTTP responses SK's generator opened, closed as the call ends
        self._calls_in_flight += 1
        try:
            while True:
                wait = (deadline if received else first_text_deadline) - loop.time()
                noted = noting_responses.set(responses)
                try:
                    async with asyncio.timeout(max(wait, 0)):
                        batch = await anext(chunks)
                except StopAsyncIteration:
                    break
                finally:
                    noting_responses.reset(noted)
                for message in batch:
                    reported = merge_usage(reported, normalise_usage((message.metadata or {}).get("usage")))
                    reason = reason or _finish_reason(message)
                    ended = ended or self.ends_stream(message)
                    text = halves.feed(message.content or "")
                    if text:
                        received.append(text)
                        yield StreamChunk(text=text)
            if reason is None and not ended:
                raise ProviderError("server", f"{where}: stream ended before the provider finished")
            if text := halves.flush():
                received.append(text)
                yield StreamChunk(text=text)
            if reason == CONTENT_FILTERED:  # the text so far is not the answer: fail, never end it as if complete
                raise content_filtered(where, usage_or_estimate(reported, request.messages, "".join(received), True))
        except Exception as exc:  # noqa: BLE001 - every failure becomes a ProviderError kind
            error = exc if isinstance(exc, ProviderError) else map_exception(exc, where, not received)
            if error.usage is None and (received or reported is not None):  # nothing generated, nothing to meter
                error.usage = usage_or_estimate(reported, request.messages, "".join(received), False)
            raise error from None
        finally:
            try:
                # SK's generators, closed, leave the SDK's stream open until a garbage collection (stream_responses):
                # its response is closed here, so a provider never goes on generating for a call that has ended.
                await close_responses(responses)
                await chunks.aclose()
            finally:
                await self._call_ended()
        usage = usage_or_estimate(reported, request.messages, "".join(received), True)
        yield StreamChunk(usage=usage, finish_reason=reason)

    async def aclose(self) -> None:
        """Close the SDK client's connection pool: now when no call is using it, else as the last call in flight ends.

        Calls in flight are never cut: an instance evicted from the process's cache (dispatch.provider_instance) may
        still be serving streams, which would otherwise fail like an outage of a healthy model. A call made after
        this (through a reference taken earlier) opens a client again, which is closed as that call ends.
        """
        self._closing = True
        if self._calls_in_flight == 0 and self._client is not None:
            client, self._client = self._client, None
            self._services.clear()
            await client.close()

    async def _call_ended(self) -> None:
        """Count a call out, and close the client if it was asked to close and this was the last call using it."""
        self._calls_in_flight -= 1
        if self._closing:
            await self.aclose()

    def required_key(self) -> str:
        """The configured API key; the SDKs would otherwise read one from the environment (a platform key), so a
        missing key is refused rather than left to them."""
        if not self.config.api_key:
            raise ProviderError("auth", f"{self.config.name}: no API key configured (a configuration problem)")
        return self.config.api_key

    def required_base_url(self, what: str = "the server's URL") -> str:
        """The configured base URL of a provider type that has no default endpoint; a missing one is this provider's
        configuration problem, refused like a missing key rather than failing the whole request."""
        if not self.config.base_url:
            raise ProviderError("client", f"{self.config.name}: no base_url configured ({what})")
        return self.config.base_url

    # -- internals -------------------------------------------------------------------------------------------
    def _service(self, model: ModelSpec, streaming: bool) -> Any:
        """The cached SK service for a model, on a client whose read timeout suits the call.

        Streaming reads must see a byte within the first-token timeout (and between chunks); a non-streamed answer
        arrives only when generation ends, so its read timeout is the total one. Both share one connection pool.
        """
        key = (model.id, streaming)
        if key not in self._services:
            timeouts = self.config.timeouts
            if self._client is None:
                self._client = self.build_client(self._timeout(timeouts.first_token))
            client = self._client if streaming else self._client.with_options(timeout=self._timeout(timeouts.total))
            self._services[key] = self.build_service(model, client)
        return self._services[key]

    def client_options(self, timeout: Any) -> dict[str, Any]:
        """What every SDK client gets: no SDK retries (the router owns retries), these timeouts, the transport."""
        return {"max_retries": 0, "timeout": timeout, "http_client": self.http_client(timeout)}

    def http_client(self, timeout: Any) -> Any:
        """The SDK's own aiohttp-backed HTTP client (its `DefaultAioHttpClient`) instead of its default httpx pool.

        Measured (docs/performance.md): httpx's pool checks every pooled connection each time it hands one out, so a
        call's CPU grows with the calls in flight (4.6 ms per call alone, 6.1 ms at 50 in flight on the development
        machine, bench/sdk_transport.py); aiohttp's pool does not (3.8 and 3.5 ms). Timeouts map to aiohttp's: read
        between bytes, connect, and pool waits as part of connecting. HTTPS_PROXY/NO_PROXY still apply (httpx mounts
        a proxied aiohttp transport).

        Redirects are not followed (the SDKs' clients follow them by default): a provider URL is checked against
        ALLOWED_MODEL_HOSTS, and a 307 from there would resend the prompt, and headers such as Azure's `api-key` and
        Anthropic's `x-api-key` (httpx drops only Authorization across origins), to a host nobody allowed.

        A 2xx web page (a wrong base URL, a sign-in portal, a misrouted proxy) fails at its headers with an error that
        says so (`refuse_web_pages`), rather than as the SDK's attempt to read it as the answer.

        Every response is noted for the streamed call that asked for it (`note_response`), which closes it as it ends.
        """
        hooks = {"response": [note_response, refuse_web_pages]}
        return self.sdk().DefaultAioHttpClient(timeout=timeout, follow_redirects=False, event_hooks=hooks)

    def _timeout(self, read: float) -> Any:
        """The SDK's httpx timeouts: connect from the config, read as given, writes and pool waits like a connect."""
        connect = self.config.timeouts.connect
        return self.sdk().Timeout(connect=connect, read=read, write=connect, pool=connect)


def content_filtered(where: str, usage: Any) -> ProviderError:
    """The answer was stopped by the provider's safety system (OpenAI/Azure content_filter, Anthropic refusal)."""
    return ProviderError("content_filter", f"{where}: the provider's content filter stopped the answer", usage=usage)


def _finish_reason(message: Any) -> str | None:
    """SK's finish reason as a plain string."""
    reason = getattr(message, "finish_reason", None)
    return getattr(reason, "value", reason)
