// End-to-end tests of the BUILT pane in Debian's Chromium (playwright-core), in a page that plays the Word or Excel
// host, against a REAL backend. `npm run e2e` starts one (e2e/serve_backend.py: dev auth, a fake provider, a worker)
// with PYTHON (default ../.venv/bin/python); BACKEND_URL=http://127.0.0.1:PORT uses a running one instead, which must
// run with SWITCHBOARD_AUTH_MODE=dev (the pane signs in through the loopback dev-token endpoint), serve the built pane
// at /addin/ (npm run build first), and have a provider that answers the skills used below.
// Screenshots and report.json go to ARTIFACTS_DIR (default: <repo>/test-artifacts/addin-e2e).
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { hostPage } from "./host-page.mjs";
import { SCENARIOS } from "./scenarios.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const CHROMIUM_ARGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
];

/** Open the fake host page on the backend's origin, with office.js replaced by the fake host. */
async function openHost(context, backend, artifacts, state) {
  const page = await context.newPage();
  const query = new URLSearchParams({ auth: "dev" });
  if (process.env.E2E_TENANT) query.set("tenant", process.env.E2E_TENANT);
  if (process.env.E2E_USER) query.set("user", process.env.E2E_USER);
  const fakeOffice = readFileSync(join(here, "fake-office.js"), "utf8");
  await page.route(`${backend}/__e2e__/host.html`, (route) => route.fulfill({ contentType: "text/html", body: hostPage(state, query.toString()) }));
  await page.route("https://appsforoffice.microsoft.com/**", (route) => route.fulfill({ contentType: "application/javascript", body: fakeOffice }));
  const consoleLines = [];
  page.on("console", (message) => consoleLines.push(`${message.type()}: ${message.text()}`));
  page.on("pageerror", (error) => consoleLines.push(`pageerror: ${error.message}`));
  await page.goto(`${backend}/__e2e__/host.html`);
  const frame = page.frameLocator("#pane");
  const paneFrame = () => page.frames().find((f) => f.url().includes("/addin/taskpane.html"));
  let shot = 0;
  const screenshot = async (name) => page.screenshot({ path: join(artifacts, `${String(++shot).padStart(2, "0")}-${name}.png`) });
  return { page, frame, paneFrame, screenshot, consoleLines };
}

/** Start e2e/serve_backend.py and resolve with its URL once it listens. */
function startBackend() {
  const python = process.env.PYTHON || resolve(here, "../../.venv/bin/python");
  const child = spawn(python, [join(here, "serve_backend.py")], { cwd: resolve(here, "../.."), stdio: ["ignore", "pipe", "pipe"] });
  const log = [];
  return new Promise((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`the backend did not start:\n${log.join("").slice(-2000)}`)), 120000);
    child.stderr.on("data", (data) => log.push(String(data)));
    child.stdout.on("data", (data) => {
      const match = /BACKEND_URL=(\S+)/.exec(String(data));
      if (match) {
        clearTimeout(timer);
        resolveUrl({ url: match[1], stop: () => child.kill("SIGTERM") });
      }
    });
    child.on("exit", (code) => reject(new Error(`the backend exited (${code}):\n${log.join("").slice(-2000)}`)));
  });
}

async function main() {
  let backend = (process.env.BACKEND_URL || "").replace(/\/+$/, "");
  let stopBackend = () => undefined;
  if (!backend) {
    const started = await startBackend();
    backend = started.url;
    stopBackend = started.stop;
    console.log(`started a backend at ${backend}`);
  }
  const artifacts = resolve(process.env.ARTIFACTS_DIR || join(here, "../../test-artifacts/addin-e2e"));
  mkdirSync(artifacts, { recursive: true });
  if (!existsSync(join(here, "../dist/taskpane.html"))) {
    console.error("No build: run `npm run build` first.");
    stopBackend();
    process.exit(2);
  }
  const health = await fetch(`${backend}/api/health`).catch((error) => ({ ok: false, status: String(error) }));
  if (!health.ok) console.warn(`warning: ${backend}/api/health answered ${health.status}`);

  const userDataDir = mkdtempSync(join(tmpdir(), "switchboard-e2e-chromium-"));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium",
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1100, height: 760 },
  });
  // Nothing leaves the machine: only the backend, and office.js (answered by the fake host).
  await context.route("**/*", (route) => {
    const url = route.request().url();
    if (url.startsWith(backend) || url.startsWith("https://appsforoffice.microsoft.com/")) return route.fallback();
    return route.abort();
  });
  const only = process.env.E2E_ONLY ? process.env.E2E_ONLY.split(",") : null;
  const results = [];
  try {
    for (const scenario of SCENARIOS) {
      if (only && !only.includes(scenario.name)) continue;
      const started = Date.now();
      const folder = join(artifacts, scenario.name);
      mkdirSync(folder, { recursive: true });
      const host = await openHost(context, backend, folder, scenario.state);
      try {
        const notes = await scenario.run(host);
        results.push({ name: scenario.name, ok: true, ms: Date.now() - started, notes });
        console.log(`PASS ${scenario.name} (${Date.now() - started} ms)`);
      } catch (error) {
        await host.screenshot("failure").catch(() => undefined);
        writeFileSync(join(folder, "console.log"), host.consoleLines.join("\n"));
        results.push({ name: scenario.name, ok: false, ms: Date.now() - started, error: String(error?.message || error) });
        console.log(`FAIL ${scenario.name}: ${String(error?.message || error).split("\n")[0]}`);
      } finally {
        await host.page.close();
      }
    }
  } finally {
    await context.close();
    rmSync(userDataDir, { recursive: true, force: true });
    stopBackend();
  }
  writeFileSync(join(artifacts, "report.json"), JSON.stringify({ backend, results }, null, 2));
  const failed = results.filter((r) => !r.ok).length;
  console.log(`${results.length - failed} passed, ${failed} failed; screenshots in ${artifacts}`);
  process.exit(failed || results.length === 0 ? 1 : 0);
}

await main();
