"""What routing adds to a call, compared in one run: the pure decision, then with circuit states from each store.

A catalog of 4 providers and 12 models, a tenant policy with data rules and pins; for each variant it times
route_candidates N times and prints p50/p99/max in microseconds. Target: well under 1 ms (1,000 us). The app reads
circuit states through a 1 s process cache (CIRCUIT_STATE_CACHE_SECONDS), so a store round trip is paid about once
per second per process, not per call; the uncached rows show what that round trip costs.

    .venv/bin/python bench/routing.py             # 20,000 decisions per variant
    .venv/bin/python bench/routing.py --quick     # 2,000
    .venv/bin/python bench/routing.py --redis redis://127.0.0.1:6379/0   # add the Redis circuit store
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from backend.catalog import Catalog
from backend.database import Base, build_engine
from backend.providers.base import ModelSpec, ProviderConfig
from backend.routing.circuit import CachedCircuitStates, CircuitSettings, DatabaseCircuitBreaker, RedisCircuitBreaker
from backend.routing.policy import TenantPolicy
from backend.routing.router import RoutingNeed, route_candidates
from backend.routing.tokens import count_prompt_tokens

CAPS = frozenset({"streaming", "json_schema", "tools"})
SETTINGS = {
    "routing": {"mode": "cost", "pins": {"summarize": ["openai-main/gpt-4.1", "claude/sonnet"]}},
    "data_policy": {"general": {"providers": ["*"]}, "confidential": {"providers": ["local", "azure-eu"]}},
}


def catalog() -> Catalog:
    """Four providers with three models each, at different prices, tiers and locations."""
    providers = {}
    for p, (kind, location) in enumerate(
        [("openai", "us-east"), ("azure_openai", "eu-west"), ("anthropic", "us-west"), ("selfhosted", "on-prem")]
    ):
        name = ["openai-main", "azure-eu", "claude", "local"][p]
        models = tuple(
            ModelSpec(
                name,
                f"model-{m}",
                32_000 * (m + 1),
                8192,
                CAPS if m else frozenset({"streaming"}),
                Decimal(str(0.2 + p + m)),
                Decimal(str(0.8 + 2 * p + m)),
                location,
                tier=3 - m,
            )  # fmt: skip
            for m in range(3)
        )
        providers[name] = ProviderConfig(name, kind, models)
    return Catalog(providers=providers, version="bench")


def timed(label: str, n: int, call) -> None:
    """Run `call` n times and print percentiles of one call in microseconds."""
    for _ in range(min(200, n)):
        call()  # warm caches
    samples = []
    for _ in range(n):
        start = time.perf_counter_ns()
        call()
        samples.append((time.perf_counter_ns() - start) / 1000)
    samples.sort()
    p50, p99 = statistics.median(samples), samples[int(len(samples) * 0.99) - 1]
    print(f"{label:<52} p50 {p50:8.1f} us   p99 {p99:8.1f} us   max {samples[-1]:9.1f} us")


def main() -> None:
    """Time each variant in one run."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--redis", help="a Redis URL to time the Redis circuit store as well")
    args = parser.parse_args()
    n = 2_000 if args.quick else 20_000
    cat, policy = catalog(), TenantPolicy.from_settings(SETTINGS)
    need = RoutingNeed(
        "rewrite", "general", prompt_tokens=1500, max_output_tokens=1024, capabilities=frozenset({"json_schema"})
    )
    print(f"route_candidates over {len(cat.models)} models, {n} decisions per variant")
    timed("decision only (policy precompiled)", n, lambda: route_candidates(cat, policy, need))
    timed("decision only (settings dict compiled per call)", n, lambda: route_candidates(cat, SETTINGS, need))
    confidential = RoutingNeed("summarize", "confidential", 1500, 1024)
    timed("decision, confidential data rule", n, lambda: route_candidates(cat, policy, confidential))
    with tempfile.TemporaryDirectory() as folder:
        engine = build_engine(f"sqlite:///{Path(folder) / 'bench.sqlite'}")
        Base.metadata.create_all(engine)
        breaker = DatabaseCircuitBreaker(engine, CircuitSettings())
        breaker.record_failure("local/model-0", retry_after=600)
        timed("decision + circuit states from SQLite", n // 4, lambda: route_candidates(cat, policy, need, breaker))
        cached = CachedCircuitStates(breaker, ttl=1.0)
        timed(
            "decision + SQLite states cached 1 s (as the app runs)",
            n,
            lambda: route_candidates(cat, policy, need, cached),
        )
        engine.dispose()
    if args.redis:
        import redis

        client = redis.Redis.from_url(args.redis)
        prefix = f"sbbench:{secrets.token_hex(4)}:"
        breaker = RedisCircuitBreaker(client, prefix, CircuitSettings())
        breaker.record_failure("local/model-0", retry_after=600)
        timed(
            "decision + circuit states from Redis (1 round trip)",
            n // 4,
            lambda: route_candidates(cat, policy, need, breaker),
        )
        cached = CachedCircuitStates(breaker, ttl=1.0)
        label = "decision + Redis states cached 1 s (as the app runs)"
        timed(label, n, lambda: route_candidates(cat, policy, need, cached))
        for key in client.scan_iter(f"{prefix}*"):
            client.delete(key)
    prompt = ["You are a careful editor.", "Rewrite this paragraph. " * 300]
    timed("for scale: counting a ~1,500-token prompt (o200k)", n // 10, lambda: count_prompt_tokens(prompt))


if __name__ == "__main__":
    main()
