// End-to-end tests of the BUILT admin console (dist/admin.html) in Debian's Chromium (playwright-core) against a REAL
// backend: `npm run e2e:admin` starts e2e/serve_admin_backend.py (dev auth, two platform models "budget" and
// "premium", and an OpenAI-compatible "GPU" that answers one key only). Screenshots and report.json go to
// ARTIFACTS_DIR (default: <repo>/test-artifacts/admin-e2e). Run `npm run build` first.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { ADMIN_SCENARIOS } from "./admin-scenarios.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const CHROMIUM_ARGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
];

/** Start e2e/serve_admin_backend.py; resolve with its URL and the GPU fake's once it listens. */
function startBackend() {
  const python = process.env.PYTHON || resolve(here, "../../.venv/bin/python");
  const child = spawn(python, [join(here, "serve_admin_backend.py")], { cwd: resolve(here, "../.."), stdio: ["ignore", "pipe", "pipe"] });
  const log = [];
  let out = "";
  return new Promise((resolveUrls, reject) => {
    const timer = setTimeout(() => reject(new Error(`the backend did not start:\n${log.join("").slice(-2000)}`)), 120000);
    child.stderr.on("data", (data) => log.push(String(data)));
    child.stdout.on("data", (data) => {
      out += String(data);
      const backend = /BACKEND_URL=(\S+)/.exec(out);
      const gpu = /GPU_URL=(\S+)/.exec(out);
      if (backend && gpu) {
        clearTimeout(timer);
        resolveUrls({ backend: backend[1], gpu: gpu[1], stop: () => child.kill("SIGTERM") });
      }
    });
    child.on("exit", (code) => reject(new Error(`the backend exited (${code}):\n${log.join("").slice(-2000)}`)));
  });
}

/** A dev token straight from the loopback endpoint (the scripted "other user" of the tests). */
async function devToken(backend, user, admin) {
  const response = await fetch(`${backend}/api/auth/dev-token`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ user, roles: admin ? ["tenant_admin"] : [] }),
  });
  if (!response.ok) throw new Error(`dev-token answered ${response.status}`);
  return (await response.json()).access_token;
}

/** Open the console as a user; every response body the page receives is kept (to look for secrets in later). */
async function openConsole(context, backend, folder, { user, admin }) {
  const page = await context.newPage();
  const bodies = [];
  const requests = [];
  const consoleLines = [];
  page.on("request", (request) => requests.push(`${request.method()} ${new URL(request.url()).pathname}`));
  page.on("response", async (response) => bodies.push(await response.text().catch(() => "")));
  page.on("console", (message) => consoleLines.push(`${message.type()}: ${message.text()}`));
  page.on("pageerror", (error) => consoleLines.push(`pageerror: ${error.message}`));
  const query = new URLSearchParams({ auth: "dev", user, admin: admin ? "1" : "0" });
  await page.goto(`${backend}/addin/admin.html?${query}`);
  let shot = 0;
  const screenshot = (name) => page.screenshot({ path: join(folder, `${String(++shot).padStart(2, "0")}-${name}.png`), fullPage: true });
  return { page, bodies, requests, consoleLines, screenshot };
}

async function main() {
  if (!existsSync(join(here, "../dist/admin.html"))) {
    console.error("No build: run `npm run build` first.");
    process.exit(2);
  }
  const server = await startBackend();
  const { backend, gpu } = server;
  console.log(`started a backend at ${backend}`);
  const artifacts = resolve(process.env.ARTIFACTS_DIR || join(here, "../../test-artifacts/admin-e2e"));
  mkdirSync(artifacts, { recursive: true });
  const userDataDir = mkdtempSync(join(tmpdir(), "switchboard-admin-e2e-chromium-"));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium",
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 900 },
    acceptDownloads: true,
  });
  // Nothing leaves the machine: only the backend is reachable from the page.
  await context.route("**/*", (route) => (route.request().url().startsWith(backend) ? route.fallback() : route.abort()));
  const env = {
    backend,
    gpu,
    gpuKey: readFileSync(join(here, "serve_admin_backend.py"), "utf8").match(/GPU_KEY = "([^"]+)"/)[1],
    runs: {}, // model ref -> skill runs made by the tests, for the usage check
    devToken: (user, admin) => devToken(backend, user, admin),
    open: null,
  };
  const only = process.env.E2E_ONLY ? process.env.E2E_ONLY.split(",") : null;
  const results = [];
  try {
    for (const scenario of ADMIN_SCENARIOS) {
      if (only && !only.includes(scenario.name)) continue;
      const started = Date.now();
      const folder = join(artifacts, scenario.name);
      mkdirSync(folder, { recursive: true });
      const opened = [];
      env.open = async (who) => {
        const session = await openConsole(context, backend, folder, who);
        opened.push(session);
        return session;
      };
      try {
        const notes = await scenario.run(env);
        results.push({ name: scenario.name, ok: true, ms: Date.now() - started, notes });
        console.log(`PASS ${scenario.name} (${Date.now() - started} ms)`);
      } catch (error) {
        for (const session of opened) await session.screenshot("failure").catch(() => undefined);
        writeFileSync(join(folder, "console.log"), opened.flatMap((s) => s.consoleLines).join("\n"));
        results.push({ name: scenario.name, ok: false, ms: Date.now() - started, error: String(error?.message || error) });
        console.log(`FAIL ${scenario.name}: ${String(error?.stack || error).split("\n").slice(0, 3).join(" | ")}`);
      } finally {
        for (const session of opened) await session.page.close();
      }
    }
  } finally {
    await context.close();
    rmSync(userDataDir, { recursive: true, force: true });
    server.stop();
  }
  writeFileSync(join(artifacts, "report.json"), JSON.stringify({ backend, results }, null, 2));
  const failed = results.filter((r) => !r.ok).length;
  console.log(`${results.length - failed} passed, ${failed} failed; screenshots in ${artifacts}`);
  process.exit(failed || results.length === 0 ? 1 : 0);
}

await main();
