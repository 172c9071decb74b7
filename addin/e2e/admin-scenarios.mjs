// The admin console's acceptance scenarios, run in order by admin-run.mjs against one fresh backend:
// a non-admin is refused everywhere; a routing change decides the next run's model; a key typed in the page never
// comes back; the usage chart shows the runs just made (and their user by name); the audit log names who changed
// what and pages through the whole log; a key the server can no longer read says so until it is set again. Each step
// asserts on the real page and the real API.
import { readFileSync } from "node:fs";

const TIMEOUT = 15000;

function check(condition, message) {
  if (!condition) throw new Error(message);
}

/** Run summarize as an ordinary user (through the API, as the task pane does); count it for the usage check. */
async function runSummarize(env) {
  const token = await env.devToken("e2e-user", false);
  const response = await fetch(`${env.backend}/api/skills/summarize/invoke`, {
    method: "POST",
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify({ input: { text: "Quarterly revenue rose twelve percent while costs grew four percent." } }),
  });
  const body = await response.json();
  check(response.ok, `summarize answered ${response.status}: ${JSON.stringify(body).slice(0, 300)}`);
  const ref = `${body.model.provider}/${body.model.model}`;
  env.runs[ref] = (env.runs[ref] ?? 0) + 1;
  return { ref, output: body.output };
}

/** Click, then wait until the settings version shown in the header changes (the PATCH was accepted). */
async function saveAndWait(page, click) {
  const before = await page.getByTestId("settings-version").textContent();
  await click();
  await page.waitForFunction(
    (old) => document.querySelector("[data-testid=settings-version]")?.textContent !== old,
    before,
    { timeout: TIMEOUT },
  );
}

/** The page's markup and every input's current value: where a leaked key would show. */
async function pageText(page) {
  return page.evaluate(() => document.documentElement.outerHTML + [...document.querySelectorAll("input, textarea")].map((e) => e.value).join("\n"));
}

const ADMIN_PATHS = [
  ["GET", "/api/admin/tenant"],
  ["PATCH", "/api/admin/tenant", { name: "taken over" }],
  ["GET", "/api/admin/usage?group_by=day"],
  ["GET", "/api/admin/audit"],
  ["GET", "/api/admin/catalog"],
  ["POST", "/api/admin/providers/budget/test"],
];

export const ADMIN_SCENARIOS = [
  {
    name: "non-admin-refused",
    async run(env) {
      const session = await env.open({ user: "e2e-user", admin: false });
      const { page } = session;
      await page.getByTestId("not-allowed").waitFor({ timeout: TIMEOUT });
      await session.screenshot("not-allowed");
      const text = await pageText(page);
      check(text.includes("Not allowed"), "the not-allowed page is not shown");
      check(!session.requests.some((r) => r.includes("/api/admin/")), `the page called admin routes: ${session.requests.join(", ")}`);
      check(!text.includes("budget") && !text.includes("premium"), "tenant data leaked into the not-allowed page");
      // The same user's token, from the page itself: every admin route refuses.
      const statuses = await page.evaluate(async ({ paths, user }) => {
        const token = (await (await fetch("/api/auth/dev-token", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ user }) })).json()).access_token;
        const out = [];
        for (const [method, path, body] of paths) {
          const response = await fetch(path, {
            method,
            headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
            body: body ? JSON.stringify(body) : undefined,
          });
          out.push(`${method} ${path} ${response.status}`);
        }
        return out;
      }, { paths: ADMIN_PATHS, user: "e2e-user" });
      check(statuses.every((s) => s.endsWith(" 403")), `not every admin call answered 403: ${statuses.join("; ")}`);
      return { statuses };
    },
  },
  {
    name: "routing-change-decides-the-model",
    async run(env) {
      const first = await runSummarize(env);
      check(first.ref === "budget/budget-1", `before the change the cheap model should answer, got ${first.ref}`);
      const session = await env.open({ user: "e2e-admin", admin: true });
      const { page } = session;
      await page.getByTestId("providers-table").waitFor({ timeout: TIMEOUT });
      await session.screenshot("providers");
      await page.getByTestId("tab-routing").click();
      // A pin to a model that does not exist: the API's 422 reason shows beside the pins field, nothing changes.
      await page.selectOption("select[name=mode]", "pinned");
      await page.fill("textarea[name=pins]", "summarize: nobody/none");
      await page.getByRole("button", { name: "Save routing and data policy" }).click();
      await page.getByText("the model of pin 1 is unknown").waitFor({ timeout: TIMEOUT });
      await session.screenshot("routing-422");
      await page.fill("textarea[name=pins]", "summarize: premium/premium-1");
      await saveAndWait(page, () => page.getByRole("button", { name: "Save routing and data policy" }).click());
      await session.screenshot("routing-pinned");
      const second = await runSummarize(env);
      check(second.ref === "premium/premium-1", `after pinning, premium should answer, got ${second.ref}`);
      check(second.output === "Answer from the premium model.", `unexpected output ${second.output}`);
      const third = await runSummarize(env);
      check(third.ref === "premium/premium-1", `the pin should hold, got ${third.ref}`);
      return { before: first.ref, after: second.ref };
    },
  },
  {
    name: "keys-are-write-only",
    async run(env) {
      const session = await env.open({ user: "e2e-admin", admin: true });
      const { page } = session;
      await page.getByTestId("endpoint-form").waitFor({ timeout: TIMEOUT });
      // A host the platform does not allow: 422 with the reason beside the form, the key never kept.
      await page.fill("input[name=name]", "rogue");
      await page.fill("input[name=baseUrl]", "http://evil.example.com/v1");
      await page.fill("input[name=modelId]", "llama-e2e");
      await page.getByRole("button", { name: "Add endpoint" }).click();
      await page.getByText("SWITCHBOARD_ALLOWED_MODEL_HOSTS").first().waitFor({ timeout: TIMEOUT });
      await session.screenshot("endpoint-422");
      // The tenant's own GPU server, with its key typed into the page.
      await page.fill("input[name=name]", "ourgpu");
      await page.fill("input[name=baseUrl]", env.gpu);
      await page.fill("input[name=modelId]", "llama-e2e");
      await page.fill("input[name=endpoint-key]", env.gpuKey);
      check((await pageText(page)).includes(env.gpuKey), "the leak check cannot see a typed key"); // the detector works
      await saveAndWait(page, () => page.getByRole("button", { name: "Add endpoint" }).click());
      const row = page.getByTestId("provider-ourgpu");
      await row.getByTestId("key-set").waitFor({ timeout: TIMEOUT });
      await row.getByRole("button", { name: "Test connection" }).click();
      await page.getByTestId("test-ourgpu").getByText("OK (ourgpu/llama-e2e").waitFor({ timeout: TIMEOUT });
      // Set it again through the row's own key field: the field empties as soon as the key is sent.
      await row.getByLabel("New key for ourgpu").fill(env.gpuKey);
      await saveAndWait(page, () => row.getByRole("button", { name: "Set key" }).click());
      check((await row.getByLabel("New key for ourgpu").inputValue()) === "", "the key field was not emptied");
      await session.screenshot("key-set");
      // A wrong key makes the connection test fail with the kind only.
      await row.getByLabel("New key for ourgpu").fill("sk-wrong-key-000");
      await saveAndWait(page, () => row.getByRole("button", { name: "Set key" }).click());
      await row.getByRole("button", { name: "Test connection" }).click();
      await page.getByTestId("test-ourgpu").getByText("Failed: auth (HTTP 401)").waitFor({ timeout: TIMEOUT });
      await row.getByLabel("New key for ourgpu").fill(env.gpuKey);
      await saveAndWait(page, () => row.getByRole("button", { name: "Set key" }).click());
      await row.getByRole("button", { name: "Test connection" }).click();
      await page.getByTestId("test-ourgpu").getByText("OK (ourgpu/llama-e2e").waitFor({ timeout: TIMEOUT });
      await page.getByTestId("tab-audit").click();
      await page.getByTestId("audit-table").getByText("settings.providers").first().waitFor({ timeout: TIMEOUT });
      await session.screenshot("audit");
      check(!(await pageText(page)).includes(env.gpuKey), "the key is in the page's DOM");
      check(!(await pageText(page)).includes("sk-wrong-key-000"), "the wrong key is in the page's DOM");
      check(session.bodies.length > 5, "no responses were recorded");
      check(!session.bodies.some((b) => b.includes(env.gpuKey)), "the key came back in a response to the page");
      const token = await env.devToken("e2e-admin", true);
      for (const path of ["/api/admin/tenant", "/api/admin/audit", "/api/admin/catalog", "/api/admin/usage?group_by=model"]) {
        const text = await (await fetch(`${env.backend}${path}`, { headers: { Authorization: `Bearer ${token}` } })).text();
        check(!text.includes(env.gpuKey), `the key is in ${path}`);
      }
      return { responsesChecked: session.bodies.length };
    },
  },
  {
    name: "limits-and-skills",
    async run(env) {
      const session = await env.open({ user: "e2e-admin", admin: true });
      const { page } = session;
      await page.getByTestId("tab-limits").waitFor({ timeout: TIMEOUT });
      await page.getByTestId("tab-limits").click();
      await page.fill("input[name=user_requests_per_minute]", "0"); // the schema's minimum is 1: the API says so
      await page.getByRole("button", { name: "Save limits" }).click();
      await page.getByText("less than the minimum of 1").waitFor({ timeout: TIMEOUT });
      await session.screenshot("limits-422");
      await page.fill("input[name=user_requests_per_minute]", "120");
      await page.fill("input[name=tenant_monthly_usd]", "500");
      await saveAndWait(page, () => page.getByRole("button", { name: "Save limits" }).click());
      await page.getByRole("switch", { name: /\(translate,/ }).click();
      await saveAndWait(page, () => page.getByRole("button", { name: "Save skills" }).click());
      await session.screenshot("limits-saved");
      const admin = await env.devToken("e2e-admin", true);
      const settings = await (await fetch(`${env.backend}/api/admin/tenant`, { headers: { Authorization: `Bearer ${admin}` } })).json();
      check(settings.budgets.tenant_monthly_usd === 500, `budget not saved: ${JSON.stringify(settings.budgets)}`);
      check(settings.rate_limits.user_requests_per_minute === 120, `rate limit not saved: ${JSON.stringify(settings.rate_limits)}`);
      check(JSON.stringify(settings.disabled_skills) === '["translate"]', `skills: ${JSON.stringify(settings.disabled_skills)}`);
      const user = await env.devToken("e2e-user", false);
      const skills = await (await fetch(`${env.backend}/api/skills?host=word`, { headers: { Authorization: `Bearer ${user}` } })).json();
      check(!skills.skills.some((s) => s.id === "translate"), "translate is still offered to users");
      return { disabled: settings.disabled_skills };
    },
  },
  {
    name: "usage-chart-shows-the-runs",
    async run(env) {
      const session = await env.open({ user: "e2e-admin", admin: true });
      const { page } = session;
      await page.getByTestId("tab-usage").waitFor({ timeout: TIMEOUT });
      await page.getByTestId("tab-usage").click();
      await page.selectOption("select[name=group_by]", "model");
      const expected = Object.entries(env.runs);
      check(expected.length >= 2, `the earlier scenarios should have run two models: ${JSON.stringify(env.runs)}`);
      for (const [ref, count] of expected) {
        await page.locator(`[data-testid=usage-chart] g[data-label="${ref}"][data-value="${count}"]`).waitFor({ timeout: TIMEOUT });
      }
      await session.screenshot("usage-per-model");
      await page.selectOption("select[name=group_by]", "day");
      await page.selectOption("select[name=metric]", "tokens");
      const total = expected.reduce((sum, [, count]) => sum + count, 0);
      await page.getByTestId("usage-totals").getByText(`${total} requests`).waitFor({ timeout: TIMEOUT });
      await session.screenshot("usage-tokens-per-day");
      const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Export CSV" }).click()]);
      const csv = readFileSync(await download.path(), "utf8");
      check(csv.startsWith("day,requests,input_tokens,output_tokens,cost_usd"), `unexpected CSV header: ${csv.slice(0, 80)}`);
      check(csv.includes(`,${total},`), `the CSV does not count ${total} requests: ${csv}`);
      // Per user: the runs' user by their display name, their Switchboard id beside it and as the tooltip.
      await page.selectOption("select[name=group_by]", "user");
      const userCell = page.getByTestId("usage-table").locator("tbody td[title]").first(); // a named user's cell
      await userCell.waitFor({ timeout: TIMEOUT });
      const userId = await userCell.getAttribute("title");
      check((await userCell.textContent()) === `e2e-user${userId}`, `not the name and then the id: ${await userCell.textContent()}`);
      await session.screenshot("usage-per-user");
      return { runs: env.runs, csv, userId };
    },
  },
  {
    name: "audit-names-and-paging",
    async run(env) {
      // More changes than one page of the console's log (100 events) holds.
      const token = await env.devToken("e2e-admin", true);
      for (let i = 0; i < 101; i++) {
        const response = await fetch(`${env.backend}/api/admin/tenant`, {
          method: "PATCH",
          headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
          body: JSON.stringify({ name: `E2E tenant ${i}` }),
        });
        check(response.ok, `renaming answered ${response.status}`);
      }
      const all = await (await fetch(`${env.backend}/api/admin/audit?limit=500`, { headers: { Authorization: `Bearer ${token}` } })).json();
      check(all.next === null && all.events.length > 101 && all.events.length <= 200, `unexpected audit size ${all.events.length}`);
      const session = await env.open({ user: "e2e-admin", admin: true });
      const { page } = session;
      await page.getByTestId("tab-audit").waitFor({ timeout: TIMEOUT });
      await page.getByTestId("tab-audit").click();
      const rows = page.getByTestId("audit-table").locator("tbody tr");
      await page.getByTestId("audit-more").waitFor({ timeout: TIMEOUT });
      check((await rows.count()) === 100, `the first page shows ${await rows.count()} events`);
      const who = page.getByTestId("audit-actor").first();
      check((await who.textContent()).startsWith("e2e-admin"), `the actor is not named: ${await who.textContent()}`);
      check((await who.getAttribute("title")) === all.events[0].actor, "the actor id is not the tooltip");
      await page.getByTestId("audit-more").click();
      await page.getByTestId("audit-more").waitFor({ state: "detached", timeout: TIMEOUT }); // the last page
      check((await rows.count()) === all.events.length, `${await rows.count()} events shown of ${all.events.length}`);
      const lastAction = await rows.last().locator("td").nth(2).textContent();
      check(lastAction.startsWith(all.events.at(-1).action), `the oldest event is not last: ${lastAction}`);
      await session.screenshot("audit-all-pages");
      return { events: all.events.length };
    },
  },
  {
    name: "unreadable-key-must-be-set-again",
    async run(env) {
      // keys-are-write-only left the tenant's GPU with a good key; the server then restarts on a new secret key.
      const rotated = await fetch(`${env.backend}/e2e/rotate-secret-key`, { method: "POST" });
      check(rotated.status === 204, `rotating answered ${rotated.status}`);
      const session = await env.open({ user: "e2e-admin", admin: true });
      const { page } = session;
      const row = page.getByTestId("provider-ourgpu");
      await row.getByTestId("key-unreadable").waitFor({ timeout: TIMEOUT }); // not "key set"
      check((await row.getByTestId("key-set").count()) === 0, "an unreadable key still reads as set");
      const warning = await row.getByTestId("unusable-ourgpu").textContent();
      check(warning.includes("Set the key again"), `the row does not say what to do: ${warning}`);
      await row.getByRole("button", { name: "Test connection" }).click();
      await page.getByTestId("test-ourgpu").getByText("Not tested: the stored key can no longer be read").waitFor({ timeout: TIMEOUT });
      await session.screenshot("key-unreadable");
      await row.getByLabel("New key for ourgpu").fill(env.gpuKey);
      await saveAndWait(page, () => row.getByRole("button", { name: "Set key" }).click());
      await row.getByTestId("key-set").waitFor({ timeout: TIMEOUT });
      check((await row.getByTestId("unusable-ourgpu").count()) === 0, "the warning stays after the key was set again");
      await row.getByRole("button", { name: "Test connection" }).click();
      await page.getByTestId("test-ourgpu").getByText("OK (ourgpu/llama-e2e").waitFor({ timeout: TIMEOUT });
      await session.screenshot("key-set-again");
      check(!(await pageText(page)).includes(env.gpuKey), "the key is in the page's DOM");
      return { warning };
    },
  },
];
