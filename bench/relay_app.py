"""The stack Switchboard must be built on, with none of Switchboard's own work: a floor for bench/overhead.py.

A Flask app served exactly as `switchboard run` serves Switchboard (gunicorn with backend/gunicorn_conf.py, the
same gevent worker, the same number of workers) with two routes:

- `POST /relay`: reads the JSON body, makes the same model call Switchboard's summarize skill makes through
  Switchboard's own OpenAI provider (Semantic Kernel's connector, the OpenAI SDK on its aiohttp transport, the
  process's asyncio bridge), and answers JSON. No token validation, no tenant, no routing, no rate limit, no
  budget, no SkillRun, no prompt template, no output sanitising.
- `POST /sdk`: the same call with the OpenAI SDK alone (the same aiohttp transport, no Semantic Kernel).
- `POST /echo`: reads the JSON body and answers a fixed JSON object: the web stack alone, no model call.

What `/relay` adds over a direct call is what the mandated parts (gunicorn + Flask + Semantic Kernel + the OpenAI
SDK) cost on this machine before Switchboard does anything; through Switchboard minus through the relay is what
Switchboard's own work adds. Started by `bench/overhead.py --relay` as

    python -m gunicorn --config python:backend.gunicorn_conf --bind 127.0.0.1:PORT 'relay_app:create_app()'

with this folder on PYTHONPATH and RELAY_BASE_URL / RELAY_API_KEY naming the fake provider.
"""

from __future__ import annotations

import os
from decimal import Decimal

from flask import Flask, jsonify, request

from backend import asyncbridge
from backend.providers.base import ChatMessage, ChatRequest, ModelSpec, ProviderConfig, Timeouts
from backend.providers.openai import OpenAIProvider

SYSTEM = "You summarize documents for the person who is reading them."


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
        usage = {"input_tokens": completion.usage.input_tokens, "output_tokens": completion.usage.output_tokens}
        return jsonify({"output": completion.text, "model": {"provider": "bench", "model": model.id}, "usage": usage})

    @app.post("/sdk")
    def sdk():
        """The same call with the SDK alone."""
        text = request.get_json()["input"]["text"]
        messages = [
            {"role": "system", "content": SYSTEM},
            {"role": "user", "content": f"Summarize the selected text.\n\n{text}"},
        ]

        async def call():
            if not clients:
                clients.append(provider.build_client(provider._timeout(30)))
            return await clients[0].chat.completions.create(
                model=model.id, messages=messages, max_completion_tokens=1024, temperature=0.2
            )

        completion = asyncbridge.run_sync(call())
        usage = {"input_tokens": completion.usage.prompt_tokens, "output_tokens": completion.usage.completion_tokens}
        output = completion.choices[0].message.content
        return jsonify({"output": output, "model": {"provider": "bench", "model": model.id}, "usage": usage})

    @app.post("/echo")
    def echo():
        """The web stack alone: parse the body, answer JSON."""
        request.get_json()
        return jsonify({"output": "ok"})

    return app
