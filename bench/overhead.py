"""What Switchboard adds to a model call: the same fake provider called directly and through `switchboard run`.

One run starts bench/fast_fake_provider.py and `switchboard run` (gunicorn, gevent, its defaults) in dev auth mode,
onboards a tenant with budgets and rate limits set (high enough never to refuse, so every request reserves, settles
and charges counters), and mints RS256 dev tokens for several users: each request is validated by the production
path, routed, rate limited, budgeted and metered (one SkillRun). For 1, 10 and 100 concurrent clients it then runs
the direct calls and the calls through Switchboard (`POST /api/skills/summarize/invoke`, JSON), each for a fixed
time, from a separate load process (asyncio on raw keep-alive sockets), and prints latency p50/p99 for both, the
added latency (through minus direct, per percentile), requests/s, errors, server CPU (in all and per request) and
the load average. With --floor it also measures `GET /api/me` at each level on the same server: token validation,
the user and a JSON answer, the cost of the web stack and auth without a model call or any accounting. With
--relay it also measures bench/relay_app.py, served the same way: the same model call through the mandated parts
(gunicorn, Flask, Semantic Kernel, the OpenAI SDK) and nothing of Switchboard's own (`/relay`), the SDK alone on
the same transport (`/sdk`) and as its sync client (`/sdksync`), the call as plain HTTP without any SDK (`/raw`), and
the web stack alone (`/echo`): what those parts cost before Switchboard does anything.

    .venv/bin/python bench/overhead.py                                   # SQLite in a temp instance folder
    .venv/bin/python bench/overhead.py --database-url postgresql://postgres@127.0.0.1:5432/sb_bench_x \\
        --redis-url redis://127.0.0.1:6379/5                             # the scale-out configuration
    .venv/bin/python bench/overhead.py --levels 10 --floor               # what a model-less request costs
    .venv/bin/python bench/overhead.py --relay --provider-latency-ms 1000  # the mandated stack's own floor
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from http_load import http_request, measure  # noqa: E402 - the load client
from streams import free_port  # noqa: E402 - the sibling bench's process helpers

BENCH_KEY = "sk-bench-not-a-secret"
TENANT_ID = "00000000-0000-4000-8000-00000000be11"
TEXT = "The quarterly report shows revenue up eight percent, costs flat, and two new offices opening in spring. " * 4
PROVIDERS = """providers:
  - name: bench
    type: openai
    base_url: {base_url}
    api_key_env: SWITCHBOARD_BENCH_KEY
    timeouts: {{connect: 2, first_token: 10, total: 30}}
    models:
      - {{id: gpt-bench, context_window: 128000, max_output_tokens: 4096, location: us-east, tier: 3,
          capabilities: [streaming], price_per_million: {{input: 0.15, output: 0.6}}}}
"""
# High enough never to refuse during a run, so each request does the full accounting work.
BUDGETS = {"tenant_monthly_usd": 1_000_000, "user_monthly_usd": 100_000}
RATE_LIMITS = {
    "user_requests_per_minute": 1_000_000,
    "tenant_requests_per_minute": 10_000_000,
    "user_tokens_per_minute": 1_000_000_000,
    "tenant_tokens_per_minute": 10_000_000_000,
}


def floor_requests(port: int, tokens: list[str]) -> list[bytes]:
    """The floor: `GET /api/me` (token validation, the user, a JSON answer), no model call, no accounting."""
    return [http_request("/api/me", port, None, {"Authorization": f"Bearer {token}"}) for token in tokens]


RELAY_PATHS = ("relay", "sdk", "sdksync", "raw", "echo")  # bench/relay_app.py's routes, as measured by --relay


def relay_requests(port: int, path: str) -> list[bytes]:
    """A call of bench/relay_app.py (one of RELAY_PATHS: the model call alone, in several ways; `/echo`: the web
    stack alone), same body."""
    return [http_request(path, port, {"input": {"text": TEXT, "length": "medium"}}, {"Accept": "application/json"})]


def direct_requests(port: int) -> list[bytes]:
    """The direct call: what the OpenAI SDK sends the provider for this skill (same prompt size)."""
    messages = [
        {"role": "system", "content": "You summarize documents for the person who is reading them."},
        {"role": "user", "content": f"Summarize the selected text. Length: medium.\n\nSelected text:\n{TEXT}"},
    ]
    body = {"model": "gpt-bench", "messages": messages, "max_tokens": 1024, "temperature": 0.2}
    return [http_request("/v1/chat/completions", port, body, {"Authorization": f"Bearer {BENCH_KEY}"})]


def switchboard_requests(port: int, tokens: list[str]) -> list[bytes]:
    """The same call through Switchboard, one prepared request per user token."""
    body = {"input": {"text": TEXT, "length": "medium"}}
    return [
        http_request(
            "/api/skills/summarize/invoke",
            port,
            body,
            {"Authorization": f"Bearer {token}", "Accept": "application/json"},
        )
        for token in tokens
    ]


def start_fake(latency_ms: float, *options: str) -> tuple[subprocess.Popen, int]:
    """Start the fast fake provider (with more of its options, if given); return it and its port."""
    script = str(Path(__file__).with_name("fast_fake_provider.py"))
    fake = subprocess.Popen(
        [sys.executable, script, "--latency-ms", str(latency_ms), *options], stdout=subprocess.PIPE, text=True
    )
    line = fake.stdout.readline().split()
    if len(line) != 2 or line[0] != "PORT":
        fake.kill()
        raise RuntimeError("the fake provider did not start")
    return fake, int(line[1])


def prepare_tenant(env: dict[str, str], users: int, results) -> None:
    """In a child process with the server's environment: onboard the tenant, set its limits, mint user tokens."""
    os.environ.update(env)
    from backend import create_app
    from backend.admin.settings import settings_row
    from backend.auth.dev import ensure_dev_tenant, mint_dev_token
    from backend.extensions import db

    app = create_app()
    with app.app_context():
        ensure_dev_tenant(TENANT_ID, name="Bench tenant")
        row = settings_row(TENANT_ID)
        row.budgets, row.rate_limits = dict(BUDGETS), dict(RATE_LIMITS)
        db.session.commit()
        results.put([mint_dev_token(TENANT_ID, f"bench-user-{i}", (), 7200) for i in range(users)])


def prepared_instance(
    args: argparse.Namespace, instance: str, fake_port: int, users: int
) -> tuple[dict[str, str], list[str]]:
    """The server's environment for this instance folder, its database migrated and the tenant onboarded (in a
    child process), and one token per user."""
    env = server_env(args, instance, fake_port)
    switchboard_cli = str(Path(sys.executable).with_name("switchboard"))
    subprocess.run([switchboard_cli, "db", "upgrade"], env=env, check=True, stdout=subprocess.DEVNULL)
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    setup = context.Process(target=prepare_tenant, args=(env, users, results))
    setup.start()
    tokens = results.get(timeout=120)
    setup.join()
    return env, tokens


def start_switchboard(env: dict[str, str], options: list[str]) -> tuple[subprocess.Popen, int]:
    """Start `switchboard run` on a free port; return it once /api/health answers."""
    port = free_port()
    command = [str(Path(sys.executable).with_name("switchboard")), "run", "--port", str(port), *options]
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=5).read()
            return server, port
        except OSError:
            time.sleep(0.3)
    server.kill()
    raise RuntimeError("switchboard did not start")


def start_relay(fake_port: int) -> tuple[subprocess.Popen, int]:
    """Start bench/relay_app.py under gunicorn with Switchboard's configuration; return it once it answers."""
    port = free_port()
    bench, repo = Path(__file__).parent, Path(__file__).parent.parent
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(bench), str(repo)]),
        "RELAY_BASE_URL": f"http://127.0.0.1:{fake_port}/v1",
        "RELAY_API_KEY": BENCH_KEY,
    }
    config = ["--config", "python:backend.gunicorn_conf", "--bind", f"127.0.0.1:{port}"]
    command = [sys.executable, "-m", "gunicorn", *config, "relay_app:create_app()"]
    relay = subprocess.Popen(command, env=env, cwd=repo, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            echo = urllib.request.Request(f"http://127.0.0.1:{port}/echo", data=b"{}", method="POST")
            echo.add_header("Content-Type", "application/json")
            urllib.request.urlopen(echo, timeout=5).read()
            return relay, port
        except OSError:
            time.sleep(0.2)
    relay.kill()
    raise RuntimeError("the relay app did not start")


def server_env(args: argparse.Namespace, instance: str, fake_port: int) -> dict[str, str]:
    """The environment of the Switchboard server (and of the tenant set-up)."""
    providers = Path(instance) / "providers.yaml"
    providers.write_text(PROVIDERS.format(base_url=f"http://127.0.0.1:{fake_port}/v1"))
    env = {
        **os.environ,
        "SWITCHBOARD_INSTANCE_PATH": instance,
        "SWITCHBOARD_AUTH_MODE": "dev",
        "SWITCHBOARD_PROVIDERS_FILE": str(providers),
        "SWITCHBOARD_BENCH_KEY": BENCH_KEY,
        "SWITCHBOARD_LOG_LEVEL": "WARNING",
    }
    if args.database_url:
        env["SWITCHBOARD_DATABASE_URL"] = args.database_url
    if args.redis_url:
        env["SWITCHBOARD_REDIS_URL"] = args.redis_url
        env["SWITCHBOARD_REDIS_KEY_PREFIX"] = f"sb-bench-{uuid.uuid4().hex[:8]}:"
    return env


def print_table(rows: list[dict]) -> None:
    """One line per concurrency level: direct, through Switchboard, added."""
    print(
        f"{'clients':>7} | {'direct p50':>10} {'p99':>7} {'rps':>6} | {'switchboard p50':>15} {'p99':>7} {'rps':>6}"
        f" {'errors':>6} {'cpu s':>6} {'ms/req':>6} | {'added p50':>9} {'p99':>7} | {'load':>5}"
    )
    for row in rows:
        d, s = row["direct"], row["switchboard"]
        errors = sum(s["errors"].values()) + sum(d["errors"].values())
        print(
            f"{row['clients']:>7} | {d['p50']:>10.2f} {d['p99']:>7.2f} {d['rps']:>6.0f} | {s['p50']:>15.2f}"
            f" {s['p99']:>7.2f} {s['rps']:>6.0f} {errors:>6} {s['server_cpu']:>6.1f} {s['cpu_ms_per_request']:>6.2f} |"
            f" {s['p50'] - d['p50']:>9.2f} {s['p99'] - d['p99']:>7.2f} | {s['load']:>5.2f}"
        )
    relays = [row for row in rows if "relay" in row]
    if relays:
        print("bench/relay_app.py on the same stack: relay = the same model call through gunicorn + Flask + Semantic")
        print("Kernel + the OpenAI SDK alone; sdk = without Semantic Kernel; sdksync = the SDK's sync client (no")
        print("asyncio); raw = plain HTTP, no SDK; echo = the web stack alone (no model, not spread); added = minus")
        print("direct; switchboard - it = what Switchboard's own work adds")
        print(
            f"{'clients':>7} {'kind':>7} | {'p50':>8} {'p99':>8} {'rps':>6} {'ms/req':>6} |"
            f" {'added p50':>9} {'p99':>7} | {'switchboard - it p50':>20} {'p99':>7}"
        )
        for row in relays:
            d, s = row["direct"], row["switchboard"]
            for kind in RELAY_PATHS:
                r = row[kind]
                line = f"{row['clients']:>7} {kind:>7} | {r['p50']:>8.2f} {r['p99']:>8.2f} {r['rps']:>6.0f}"
                line += f" {r['cpu_ms_per_request']:>6.2f} |"
                if kind != "echo":  # no model call: nothing to subtract
                    line += f" {r['p50'] - d['p50']:>9.2f} {r['p99'] - d['p99']:>7.2f} |"
                    line += f" {s['p50'] - r['p50']:>20.2f} {s['p99'] - r['p99']:>7.2f}"
                print(line)
    floors = [row for row in rows if "floor" in row]
    if floors:
        print("floor: GET /api/me through the same server (token validation, the user, a JSON answer; no model call)")
        print(f"{'clients':>7} | {'p50':>7} {'p99':>7} {'rps':>6} {'errors':>6} {'ms/req':>6}")
        for row in floors:
            f = row["floor"]
            errors = sum(f["errors"].values())
            print(
                f"{row['clients']:>7} | {f['p50']:>7.2f} {f['p99']:>7.2f} {f['rps']:>6.0f} {errors:>6}"
                f" {f['cpu_ms_per_request']:>6.2f}"
            )


def main() -> None:
    """Set up, measure each level (direct then through Switchboard), print the table and the raw numbers."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--levels", default="1,10,100", help="concurrent clients per step, comma separated")
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds per step")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds before each step")
    parser.add_argument("--server-warmup", type=float, default=15.0, help="unmeasured seconds of load at start")
    parser.add_argument("--warmup-clients", type=int, default=20, help="concurrent clients of that warm-up")
    parser.add_argument("--users", type=int, default=10, help="distinct users (tokens) the clients cycle through")
    parser.add_argument("--database-url", help="SWITCHBOARD_DATABASE_URL (default: SQLite in a temp instance)")
    parser.add_argument("--redis-url", help="SWITCHBOARD_REDIS_URL (default: none; counters in the database)")
    parser.add_argument("--run-options", default="", help="extra options of `switchboard run`, e.g. '--workers 3'")
    parser.add_argument(
        "--provider-latency-ms",
        type=float,
        default=0.0,
        help="the fake model's time to answer (0: the server's own limit shows; 250: 100 clients offer ~400 req/s)",
    )
    parser.add_argument(
        "--floor", action="store_true", help="also measure GET /api/me at each level: the server's cost without a model"
    )
    parser.add_argument(
        "--relay", action="store_true", help="also measure bench/relay_app.py: the mandated stack without Switchboard"
    )
    parser.add_argument("--json", action="store_true", help="also print the raw results as JSON")
    args = parser.parse_args()
    fake, fake_port = start_fake(args.provider_latency_ms)
    server = relay = None
    try:
        with tempfile.TemporaryDirectory(prefix="sb-overhead-") as instance:
            env, tokens = prepared_instance(args, instance, fake_port, args.users)
            server, port = start_switchboard(env, args.run_options.split())
            direct, through = direct_requests(fake_port), switchboard_requests(port, tokens)
            floor = floor_requests(port, tokens)
            # Each worker's first calls import Semantic Kernel and the SDKs and load the tokenizer: not measured.
            measure(port, through, args.warmup_clients, 0.0, args.server_warmup, [server.pid])
            if args.relay:
                relay, relay_port = start_relay(fake_port)
                relayed = {kind: relay_requests(relay_port, f"/{kind}") for kind in RELAY_PATHS}
                for kind in ("relay", "sdk", "sdksync", "raw"):  # first calls: SK and SDK imports, connections
                    measure(relay_port, relayed[kind], args.warmup_clients, 0.0, args.server_warmup / 2, [relay.pid])
            rows = []
            for clients in [int(level) for level in args.levels.split(",")]:
                row = {"clients": clients}
                spread = min(args.provider_latency_ms / 1000, args.warmup)
                row["direct"] = measure(fake_port, direct, clients, args.warmup, args.seconds, [fake.pid], spread)
                row["switchboard"] = measure(port, through, clients, args.warmup, args.seconds, [server.pid], spread)
                if args.floor:
                    row["floor"] = measure(port, floor, clients, args.warmup, args.seconds, [server.pid])
                if relay is not None:
                    for kind in RELAY_PATHS:  # echo makes no model call: spreading its clients means nothing
                        spread_kind = 0.0 if kind == "echo" else spread
                        row[kind] = measure(
                            relay_port, relayed[kind], clients, args.warmup, args.seconds, [relay.pid], spread_kind
                        )
                rows.append(row)
            db = "PostgreSQL" if args.database_url else "SQLite"
            counters = "Redis" if args.redis_url else "database"
            print(
                f"database: {db}; counters: {counters}; provider latency {args.provider_latency_ms:g} ms;"
                f" {os.cpu_count()} CPUs"
            )
            print(
                "latencies in ms; added = through Switchboard minus direct, per percentile; cpu s = server CPU;"
                " ms/req = server CPU per request"
            )
            print_table(rows)
            if args.json:
                print(json.dumps(rows, indent=1))
    finally:
        if relay is not None:
            relay.terminate()
            relay.wait(timeout=60)
        stop(server, fake)


def stop(server: subprocess.Popen | None, fake: subprocess.Popen) -> None:
    """Stop the Switchboard server (if it started) and the fake provider, and wait for both."""
    if server is not None:
        server.terminate()
        server.wait(timeout=60)
    fake.terminate()
    fake.wait(timeout=10)


if __name__ == "__main__":
    main()
