"""Characters split between a provider's stream chunks reach the SSE client whole: a multi-byte UTF-8 character cut
between two HTTP chunks, and an emoji whose two UTF-16 halves come as two JSON-escaped chunks."""

from __future__ import annotations

import json

import pytest

from backend.providers.surrogates import SurrogateJoiner
from backend.streaming import format_event
from tests.fakes import FakeOpenAI
from tests.fakes import openai_server as fake_openai
from tests.fakes.common import Handler
from tests.fakes.harness import chat, collect, make_provider, run

pytestmark = pytest.mark.usefixtures("sdks_loaded")
EMOJI_HALVES = "\ud83d\ude00"  # 😀 as the two lone halves a UTF-16 slicer sends


def stream_text(server: FakeOpenAI) -> list[str]:
    """The text pieces the OpenAI provider yields from the fake's stream."""
    provider, model = make_provider("openai", server.base_url)
    result = run(provider, lambda: collect(provider, model, chat()))
    assert result.error is None
    return result.texts


def test_an_emoji_whose_halves_come_in_two_chunks_is_one_character(monkeypatch):
    monkeypatch.setattr(fake_openai, "split_tokens", list)  # one chunk per code unit: the halves apart
    with FakeOpenAI(default_reply=f"ok {EMOJI_HALVES} done {EMOJI_HALVES}") as server:
        texts = stream_text(server)
    assert "".join(texts) == "ok 😀 done 😀"
    for text in texts:
        format_event("delta", {"text": text})  # each delta encodes as UTF-8 (a lone half raised here)


def test_a_multibyte_character_cut_between_http_chunks_arrives_whole(monkeypatch):
    def send_split(self: Handler, data: str, event: str | None = None) -> None:
        if data.startswith("{"):
            data = json.dumps(json.loads(data), ensure_ascii=False)  # é as its two UTF-8 bytes, not \u00e9
        payload = ((f"event: {event}\n" if event else "") + f"data: {data}\n\n").encode()
        middle = payload.find("é".encode()) + 1 or len(payload) // 2  # inside the two bytes of é
        for part in (payload[:middle], payload[middle:]):
            self.wfile.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
            self.wfile.flush()

    monkeypatch.setattr(Handler, "send_event", send_split)
    with FakeOpenAI(default_reply="café résumé naïve") as server:
        assert "".join(stream_text(server)) == "café résumé naïve"


def test_a_half_without_its_pair_becomes_a_replacement_character():
    halves = SurrogateJoiner()
    assert [halves.feed("a\ud83d"), halves.feed("b"), halves.feed("\ude00c\ud83d"), halves.flush()] == [
        "a",
        "\ufffdb",
        "\ufffdc",
        "\ufffd",
    ]
