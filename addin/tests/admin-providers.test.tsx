// The Providers tab with providers the catalog cannot use: an unreadable stored key, settings that no longer build.
import { FluentProvider, webLightTheme } from "@fluentui/react-components";
import { cleanup, fireEvent, render, screen, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { AdminClient, Catalog, TenantSettings } from "../src/admin/api";
import { providerRows, testLabel } from "../src/admin/providerRows";
import { ProvidersSection } from "../src/admin/sections/ProvidersSection";

afterEach(cleanup);

const MODEL = { ref: "budget/budget-1", id: "budget-1", location: "us", tier: 3, allowed: false, price_per_million: { input: 1, output: 2 } };

/** `ourgpu` (the tenant's own) has a key no secret key decrypts, so the catalog leaves it out; `budget` is a platform
 * provider whose narrowing row no longer builds; `premium` is fine. */
const SETTINGS: TenantSettings = {
  name: "Contoso",
  version: 4,
  providers: [
    { name: "budget", enabled: true, api_key_set: false, base_url: "http://gone.example.com/v1" },
    { name: "ourgpu", type: "selfhosted", base_url: "http://10.0.0.5/v1", enabled: true, models: [{ id: "llama", context_window: 8192, location: "on-prem" }], api_key_set: true, api_key_unreadable: true },
  ],
  routing: { mode: "cost", pins: {} },
  data_policy: {},
  budgets: { tenant_monthly_usd: null, user_monthly_usd: null },
  rate_limits: {},
  disabled_skills: [],
};
const CATALOG: Catalog = {
  providers: [
    { name: "budget", type: "openai", owner: "platform", enabled: true, location: "us", models: [MODEL] },
    { name: "premium", type: "openai", owner: "platform", enabled: true, location: "eu", models: [{ ...MODEL, ref: "premium/premium-1", id: "premium-1", allowed: true }] },
  ],
  platform_providers: ["budget", "premium"],
  skills: [],
  problems: 2,
  unusable_providers: [
    { name: "budget", reason: "config_invalid" },
    { name: "ourgpu", reason: "key_unreadable" },
  ],
};

function renderSection(client: Partial<AdminClient>, save = vi.fn(async () => [])) {
  render(
    <FluentProvider theme={webLightTheme}>
      <ProvidersSection client={client as AdminClient} settings={SETTINGS} catalog={CATALOG} save={save} />
    </FluentProvider>,
  );
  return save;
}

describe("providerRows", () => {
  it("keeps the tenant's rows the catalog left out, says why each is unusable and which key is unreadable", () => {
    const rows = providerRows(CATALOG, SETTINGS);
    expect(rows.map((row) => [row.provider.name, row.unusable, row.keyState])).toEqual([
      ["budget", "config_invalid", "none"],
      ["premium", null, "none"],
      ["ourgpu", "key_unreadable", "unreadable"],
    ]);
    expect(rows[2].provider).toMatchObject({ owner: "tenant", type: "selfhosted", base_url: "http://10.0.0.5/v1", location: "on-prem", models: [] });
  });

  it("says what a connection test that called nothing means", () => {
    expect(testLabel({ ok: false, model: null, error: "key_unreadable", status: null })).toBe("Not tested: the stored key can no longer be read. Set the key again.");
    expect(testLabel({ ok: false, model: null, error: "config_invalid", status: null })).toMatch(/^Not tested: this provider's settings no longer work/);
    expect(testLabel({ ok: false, model: "x/y", error: "auth", status: 401 })).toBe("Failed: auth (HTTP 401)");
  });
});

describe("ProvidersSection with unusable providers", () => {
  it("warns on each unusable row with what to do, and shows an unreadable key as such, not as set", () => {
    renderSection({});
    const gpu = screen.getByTestId("provider-ourgpu");
    expect(within(gpu).getByTestId("unusable-ourgpu").textContent).toMatch(/API key can no longer be read.*Set the key again/);
    expect(within(gpu).getByTestId("key-unreadable").textContent).toBe("key unreadable — set it again");
    expect(within(gpu).queryByTestId("key-set")).toBeNull();
    expect(within(screen.getByTestId("provider-budget")).getByTestId("unusable-budget").textContent).toMatch(/settings no longer work.*host/);
    expect(within(screen.getByTestId("provider-premium")).queryByRole("alert")).toBeNull();
  });

  it("sets the key again with a PATCH the schema accepts (no answer-only fields)", async () => {
    const save = renderSection({});
    const gpu = screen.getByTestId("provider-ourgpu");
    fireEvent.change(within(gpu).getByLabelText("New key for ourgpu"), { target: { value: "sk-again" } });
    fireEvent.click(within(gpu).getByRole("button", { name: "Set key" }));
    await vi.waitFor(() => expect(save).toHaveBeenCalledTimes(1));
    const sent = (save.mock.calls[0] as unknown as [{ providers: Record<string, unknown>[] }])[0].providers;
    expect(sent.find((p) => p.name === "ourgpu")).toEqual({ name: "ourgpu", type: "selfhosted", base_url: "http://10.0.0.5/v1", enabled: true, models: SETTINGS.providers[1].models, api_key: "sk-again" });
  });

  it("says what a connection test of an unusable provider means", async () => {
    const testProvider = vi.fn(async () => ({ ok: false, model: null, error: "key_unreadable", status: null }));
    renderSection({ testProvider });
    fireEvent.click(within(screen.getByTestId("provider-ourgpu")).getByRole("button", { name: "Test connection" }));
    expect(await screen.findByText("Not tested: the stored key can no longer be read. Set the key again.")).toBeTruthy();
    expect(testProvider).toHaveBeenCalledWith("ourgpu");
  });
});
