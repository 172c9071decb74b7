"""What a worker's full garbage collection and its first call cost, with the call path loaded before gc.freeze() or on
first use: the two ways a gunicorn worker can start (backend/gunicorn_conf.post_worker_init).

Each sample is a fresh process doing what a worker does: create the app, then either load the provider SDKs,
Semantic Kernel's connectors and the tokenizer and freeze (`preloaded`, what post_worker_init does now) or freeze
first and let the first call load them (`lazy`, what it did before). It then times its first summarize call through
the Flask test client to bench/fast_fake_provider.py, makes 200 more, and times full collections (`gc.collect()`,
what the collector does on its own when enough objects have survived). The modes alternate; one run prints both.

    .venv/bin/python bench/gc_pause.py [--samples 3]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from overhead import TEXT, prepared_instance, start_fake  # noqa: E402 - sibling bench

MODES = ("lazy", "preloaded")


def worker_sample(env: dict[str, str], token: str, mode: str, results) -> None:
    """One fresh process: start like a worker in `mode`, then time the first call and full collections."""
    import gc

    os.environ.update(env)
    from backend import create_app
    from backend.dispatch import preload_call_path
    from backend.gunicorn_conf import GC_THRESHOLD

    app = create_app()
    started = time.perf_counter()
    if mode == "preloaded":
        preload_call_path()
    boot = time.perf_counter() - started
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLD)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    body = {"input": {"text": TEXT, "length": "medium"}}
    started = time.perf_counter()
    assert client.post("/api/skills/summarize/invoke", json=body, headers=headers).status_code == 200
    first_call = time.perf_counter() - started
    for _ in range(200):
        assert client.post("/api/skills/summarize/invoke", json=body, headers=headers).status_code == 200
    tracked = len(gc.get_objects())  # what a full collection walks (frozen objects are not listed)
    pauses = []
    for _ in range(5):
        started = time.perf_counter()
        gc.collect()
        pauses.append(time.perf_counter() - started)
    results.put({"mode": mode, "boot": boot, "first_call": first_call, "tracked": tracked, "pauses": pauses})


def main() -> None:
    """Start the fake provider and a tenant, then alternate the two modes in fresh processes."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=3, help="processes per mode")
    args = parser.parse_args()
    context = multiprocessing.get_context("spawn")
    fake, fake_port = start_fake(0)
    try:
        with tempfile.TemporaryDirectory(prefix="sb-gc-") as instance:
            no_services = argparse.Namespace(database_url=None, redis_url=None)
            env, tokens = prepared_instance(no_services, instance, fake_port, 1)
            token = tokens[0]
            results = context.Queue()
            samples: dict[str, list[dict]] = {mode: [] for mode in MODES}
            for _ in range(args.samples):
                for mode in MODES:
                    process = context.Process(target=worker_sample, args=(env, token, mode, results))
                    process.start()
                    samples[mode].append(results.get(timeout=300))
                    process.join()
    finally:
        fake.terminate()
        fake.wait(timeout=10)
    print(f"{'mode':<10} {'boot s':>7} {'first call ms':>13} {'tracked objects':>15} {'full collection ms':>18}")
    for mode, rows in samples.items():
        for row in rows:
            pause = statistics.median(row["pauses"]) * 1000
            print(
                f"{mode:<10} {row['boot']:>7.2f} {row['first_call'] * 1000:>13.1f} {row['tracked']:>15,} {pause:>18.1f}"
            )


if __name__ == "__main__":
    main()
