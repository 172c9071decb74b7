"""The stack Switchboard must be built on, with none of Switchboard's own work: a floor for bench/overhead.py.

A Flask app served exactly as `switchboard run` serves Switchboard (gunicorn with backend/gunicorn_conf.py, the
same gevent worker, the same number of workers) with these routes:

- `POST /relay`: reads the JSON body, makes the same model call Switchboard's summarize skill makes through
  Switchboard's own OpenAI provider (Semantic Kernel's connector, the OpenAI SDK on its aiohttp transport, the
  process's asyncio bridge), and answers JSON. No token validation, no tenant, no routing, no rate limit, no
  budget, no SkillRun, no prompt template, no output sanitising.
- `POST /sdk`: the same call with the OpenAI SDK alone (the same aiohttp transport, no Semantic Kernel).
- `POST /sdksync`: the same call with the SDK's sync client (httpx on gevent's sockets): no asyncio bridge either.
- `POST /raw`: the same request body as plain HTTP/1.1 (http.client on a pooled keep-alive connection, json in and
  out): the least any server of this web stack can do to relay the call, with no SDK at all.
- `POST /echo`: reads the JSON body and answers a fixed JSON object: the web stack alone, no model call.

What `/relay` adds over a direct call is what the mandated parts (gunicorn + Flask + Semantic Kernel + the OpenAI
SDK) cost on this machine before Switchboard does anything; through Switchboard minus through the relay is what
Switchboard's own work adds. Started by `bench/overhead.py --relay` as

    python -m gunicorn --config python:backend.gunicorn_conf --bind 127.0.0.1:PORT 'relay_app:create_app()'

with this folder on PYTHONPATH and RELAY_BASE_URL / RELAY_API_KEY naming the fake provider.
"""

from __future__ import annotations

import http.client
import json
import os
from decimal import Decimal
from urllib.parse import urlsplit

import openai
from flask import Flask, jsonify, request

from backend import asyncbridge
from backend.providers.base import ChatMessage, ChatRequest, ModelSpec, ProviderConfig, Timeouts
from backend.providers.openai import OpenAIProvider

SYSTEM = "You summarize documents for the person who is reading them."


def wire_messages(text: str) -> list[dict[str, str]]:
    """The call's messages as the Chat Completions API takes them (the same as /relay's)."""
    user = f"Summarize the selected text.\n\n{text}"
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]


def reply(output: str, model_id: str, input_tokens: int, output_tokens: int):
    """The JSON answer every model route gives."""
    usage = {"input_tokens": input_tokens, "output_tokens": output_tokens}
    return jsonify({"output": output, "model": {"provider": "bench", "model": model_id}, "usage": usage})


def create_app() -> Flask:
    """The relay app for the provider at RELAY_BASE_URL."""
    model = ModelSpec("bench", "gpt-bench", 128_000, 4096, price_in_per_million=Decimal("0.15"))
    config = ProviderConfig(
        "bench",
        "openai",
        (model,),
        base_url=os.environ["RELAY_BASE_URL"],
        api_key=os.environ["RELAY_API_KEY"],
        timeouts=Timeouts(connect=2, first_token=10, total=30),
    )
    provider = OpenAIProvider(config)  # its SDK client is made on the first call, in the worker
    clients: list = []  # the SDK-only client, made on the bridge loop on the first /sdk call
    app = Flask(__name__)

    @app.post("/relay")
    def relay():
        """One model call, answered as JSON."""
        text = request.get_json()["input"]["text"]
        messages = [ChatMessage("system", SYSTEM), ChatMessage("user", f"Summarize the selected text.\n\n{text}")]
        completion = asyncbridge.run_sync(provider.complete(model, ChatRequest(messages, 1024, 0.2)))
        return reply(completion.text, model.id, completion.usage.input_tokens, completion.usage.output_tokens)

    @app.post("/sdk")
    def sdk():
        """The same call with the SDK alone."""
        text = request.get_json()["input"]["text"]
        messages = wire_messages(text)

        async def call():
            if not clients:
                clients.append(provider.build_client(provider._timeout(30)))
            return await clients[0].chat.completions.create(
                model=model.id, messages=messages, max_completion_tokens=1024, temperature=0.2
            )

        completion = asyncbridge.run_sync(call())
        output, counts = completion.choices[0].message.content, completion.usage
        return reply(output, model.id, counts.prompt_tokens, counts.completion_tokens)

    pool: list = []  # idle keep-alive connections to the fake, for /raw

    @app.post("/raw")
    def raw():
        """The same call as plain HTTP/1.1 over a pooled keep-alive connection: no SDK, no asyncio."""
        text = request.get_json()["input"]["text"]
        messages = wire_messages(text)
        body = json.dumps({"model": model.id, "messages": messages, "max_tokens": 1024, "temperature": 0.2})
        url = urlsplit(os.environ["RELAY_BASE_URL"])
        connection = pool.pop() if pool else http.client.HTTPConnection(url.hostname, url.port, timeout=30)
        headers = {"Authorization": f"Bearer {os.environ['RELAY_API_KEY']}", "Content-Type": "application/json"}
        connection.request("POST", url.path.rstrip("/") + "/chat/completions", body, headers)
        completion = json.loads(connection.getresponse().read())
        pool.append(connection)
        output, counts = completion["choices"][0]["message"]["content"], completion["usage"]
        return reply(output, model.id, counts["prompt_tokens"], counts["completion_tokens"])

    sync_clients: list = []

    @app.post("/sdksync")
    def sdksync():
        """The same call with the OpenAI SDK's sync client (httpx on gevent's sockets): no asyncio bridge."""
        if not sync_clients:
            sync_clients.append(
                openai.OpenAI(api_key=os.environ["RELAY_API_KEY"], base_url=os.environ["RELAY_BASE_URL"], max_retries=0)
            )
        text = request.get_json()["input"]["text"]
        messages = wire_messages(text)
        completion = sync_clients[0].chat.completions.create(
            model=model.id, messages=messages, max_completion_tokens=1024, temperature=0.2
        )
        output, counts = completion.choices[0].message.content, completion.usage
        return reply(output, model.id, counts.prompt_tokens, counts.completion_tokens)

    @app.post("/echo")
    def echo():
        """The web stack alone: parse the body, answer JSON."""
        request.get_json()
        return jsonify({"output": "ok"})

    return app
