// The console shell over a fake admin client: what the page shows after someone else saved first.
import { FluentProvider, webLightTheme } from "@fluentui/react-components";
import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ApiProblem } from "../src/api/errors";
import type { AdminClient, Catalog, TenantSettings } from "../src/admin/api";
import { AdminApp } from "../src/admin/AdminApp";

globalThis.ResizeObserver ??= class {
  observe() {}
  unobserve() {}
  disconnect() {}
};

function settings(version: number, mode: TenantSettings["routing"]["mode"], user_monthly_usd: number | null): TenantSettings {
  return {
    name: "Contoso",
    version,
    providers: [],
    routing: { mode, pins: {}, pinned_fallback: true },
    data_policy: {},
    budgets: { tenant_monthly_usd: null, user_monthly_usd },
    rate_limits: {},
    disabled_skills: [],
  };
}

const CATALOG: Catalog = { providers: [], platform_providers: [], skills: [{ id: "summarize", name: "Summarize", hosts: ["word"] }], problems: 0 };

afterEach(cleanup);

describe("AdminApp after a version conflict", () => {
  it("shows the other admin's saved settings in the form, not the stale edit", async () => {
    const tenant = vi.fn().mockResolvedValueOnce(settings(1, "cost", 20)).mockResolvedValueOnce(settings(2, "pinned", 50));
    const client = {
      me: vi.fn(async () => ({ tenant_id: "t", user_id: "alice", name: "Alice", roles: ["user", "tenant_admin"], tenant: { name: "Contoso", status: "active" } })),
      tenant,
      catalog: vi.fn(async () => CATALOG),
      updateTenant: vi.fn(async () => {
        throw new ApiProblem(409, "version_conflict", "The settings changed meanwhile.");
      }),
    } as unknown as AdminClient;
    render(
      <FluentProvider theme={webLightTheme}>
        <AdminApp client={client} />
      </FluentProvider>,
    );
    fireEvent.click(await screen.findByTestId("tab-routing"));
    const mode = () => document.querySelector("select[name=mode]") as HTMLSelectElement;
    await waitFor(() => expect(mode()).not.toBeNull());
    fireEvent.change(mode(), { target: { value: "quality" } });
    fireEvent.submit(screen.getByTestId("routing-form"));
    await screen.findByText(/Someone else changed the settings meanwhile/);
    expect(screen.getByTestId("settings-version").textContent).toBe("2");
    expect(mode().value).toBe("pinned");
    fireEvent.click(screen.getByTestId("tab-limits"));
    expect((document.querySelector("input[name=user_monthly_usd]") as HTMLInputElement).value).toBe("50");
  });
});
