// The Providers tab's rows and what it says about them, free of React so it can be unit-tested: every provider of the
// catalog plus the tenant's own rows the catalog left out (an unreadable key, settings that no longer build), each
// with what the admin must do, the state of its key, and a connection test's result in words.
import type { Catalog, CatalogProvider, ConnectionTest, TenantSettings, UnusableReason } from "./api";

export type KeyState = "unreadable" | "set" | "none";

export interface ProviderRowView {
  provider: CatalogProvider;
  unusable: UnusableReason | null;
  keyState: KeyState;
}

/** What the admin must do about a provider the catalog cannot use. */
export const UNUSABLE_ADVICE: Record<UnusableReason, string> = {
  key_unreadable:
    "Not in use: its stored API key can no longer be read (the server's secret key was changed). Set the key again.",
  config_invalid:
    "Not in use: its settings no longer work (for example, its host is no longer allowed on this server). Change or remove the provider, or ask the operator to allow its host again.",
};

/** One row per catalog provider, then each of the tenant's rows the catalog left out (so its key can be set again). */
export function providerRows(catalog: Catalog, settings: TenantSettings): ProviderRowView[] {
  const reasons = new Map((catalog.unusable_providers ?? []).map((u) => [u.name, u.reason]));
  const listed = new Set(catalog.providers.map((p) => p.name));
  const leftOut: CatalogProvider[] = settings.providers
    .filter((entry) => reasons.has(entry.name) && !listed.has(entry.name))
    .map((entry) => ({
      name: entry.name,
      type: entry.type ?? "",
      owner: "tenant",
      enabled: entry.enabled !== false,
      location: entry.models?.[0]?.location ?? "",
      base_url: entry.base_url ?? null,
      models: [],
    }));
  return [...catalog.providers, ...leftOut].map((provider) => {
    const entry = settings.providers.find((p) => p.name === provider.name);
    const keyState: KeyState = entry?.api_key_unreadable ? "unreadable" : entry?.api_key_set ? "set" : "none";
    return { provider, unusable: reasons.get(provider.name) ?? null, keyState };
  });
}

/** A connection test's result in words: the model and latency, or why it failed and what to do. */
export function testLabel(test: ConnectionTest | "running" | undefined): string {
  if (test === undefined) return "";
  if (test === "running") return "Testing…";
  if (test.ok) return `OK (${test.model}, ${test.latency_ms} ms)`;
  if (test.error === "key_unreadable") return "Not tested: the stored key can no longer be read. Set the key again.";
  if (test.error === "config_invalid") return "Not tested: this provider's settings no longer work. Change or remove it.";
  return `Failed: ${test.error}${test.status ? ` (HTTP ${test.status})` : ""}`;
}
