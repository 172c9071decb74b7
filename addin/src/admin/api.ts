// The admin console's API client: the pane's ApiClient (token, retry on claims challenge, one error type) plus the
// tenant administration routes of shared/API.md and the console's catalog and connection test.
import { ApiClient } from "../api/client";
import type { Sensitivity } from "../api/types";

export type RoutingMode = "cost" | "quality" | "pinned" | "selfhosted_first";
export type UsageGrouping = "day" | "model" | "skill" | "user";

export interface ModelEntry {
  id: string;
  context_window: number;
  max_output_tokens?: number;
  location?: string;
  tier?: number;
  price_per_million?: { input?: number | null; output?: number | null };
  capabilities?: string[];
}

/** A provider as the settings document holds it: `api_key_set` in answers, `api_key` only ever sent. */
export interface ProviderEntry {
  name: string;
  type?: string;
  base_url?: string | null;
  enabled?: boolean;
  models?: ModelEntry[];
  allowed_models?: string[] | null;
  api_version?: string;
  api_key_set?: boolean;
  api_key?: string | null;
}

export interface SensitivityRule {
  providers?: string[];
  locations?: string[];
}

export interface TenantSettings {
  name: string;
  version: number;
  providers: ProviderEntry[];
  routing: { mode: RoutingMode; pins: Record<string, string[]>; pinned_fallback?: boolean };
  data_policy: Partial<Record<Sensitivity, SensitivityRule>>;
  budgets: { tenant_monthly_usd: number | null; user_monthly_usd: number | null };
  rate_limits: Record<string, number | null>;
  disabled_skills: string[];
}

export type SettingsPatch = Partial<Omit<TenantSettings, "version">> & { expected_version?: number };

export interface CatalogModel {
  ref: string;
  id: string;
  location: string;
  tier: number;
  allowed: boolean;
  price_per_million: { input: number; output: number };
}

export interface CatalogProvider {
  name: string;
  type: string;
  owner: "platform" | "tenant";
  enabled: boolean;
  location: string;
  base_url?: string | null;
  models: CatalogModel[];
}

export interface Catalog {
  providers: CatalogProvider[];
  platform_providers: string[];
  skills: { id: string; name: string; hosts: string[] }[];
  problems: number;
}

export interface UsageRow {
  [group: string]: string | number;
  requests: number;
  input_tokens: number;
  output_tokens: number;
  cost_usd: number;
}

export interface UsageReport {
  from: string;
  to: string;
  group_by: UsageGrouping;
  rows: UsageRow[];
}

export interface AuditEvent {
  id?: string;
  at?: string;
  created_at?: string;
  actor: string;
  action: string;
  target?: string;
  before: unknown;
  after: unknown;
}

export interface ConnectionTest {
  ok: boolean;
  model?: string;
  error?: string;
  status?: number | null;
  latency_ms?: number;
}

export class AdminClient extends ApiClient {
  /** The tenant's settings document (keys never included). */
  tenant(signal?: AbortSignal): Promise<TenantSettings> {
    return this.json<TenantSettings>("GET", "/api/admin/tenant", undefined, signal);
  }

  /** Change top-level keys of the settings; 422 carries {field, message} details, 409 a stale version. */
  updateTenant(patch: SettingsPatch): Promise<TenantSettings> {
    return this.json<TenantSettings>("PATCH", "/api/admin/tenant", patch);
  }

  /** Every provider, model and skill the tenant can configure. */
  catalog(signal?: AbortSignal): Promise<Catalog> {
    return this.json<Catalog>("GET", "/api/admin/catalog", undefined, signal);
  }

  /** One tiny real call through a provider. */
  testProvider(name: string): Promise<ConnectionTest> {
    return this.json<ConnectionTest>("POST", `/api/admin/providers/${encodeURIComponent(name)}/test`);
  }

  /** Requests, tokens and cost over a date range (inclusive days, YYYY-MM-DD), grouped. */
  usage(from: string, to: string, groupBy: UsageGrouping, signal?: AbortSignal): Promise<UsageReport> {
    const query = new URLSearchParams({ from, to, group_by: groupBy });
    return this.json<UsageReport>("GET", `/api/admin/usage?${query}`, undefined, signal);
  }

  /** The audit log, newest first. */
  async audit(limit = 100, signal?: AbortSignal): Promise<AuditEvent[]> {
    const body = await this.json<{ events: AuditEvent[] }>("GET", `/api/admin/audit?limit=${limit}`, undefined, signal);
    return body.events;
  }
}
