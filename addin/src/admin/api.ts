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
  /** In answers only: a key is stored but the server's secret keys cannot decrypt it (set it again). */
  api_key_unreadable?: boolean;
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
  /** The tenant's provider rows left out of the catalog, and why. */
  unusable_providers?: UnusableProvider[];
}

/** Why a tenant provider cannot be used: its stored key cannot be decrypted, or its settings no longer build. */
export type UnusableReason = "key_unreadable" | "config_invalid";

export interface UnusableProvider {
  name: string;
  reason: UnusableReason;
}

export interface UsageRow {
  [group: string]: string | number | null;
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
  /** The exact sums of the rows (cost summed in micro-dollars by the server). */
  totals: UsageTotals;
}

export interface UsageTotals {
  requests: number;
  input_tokens: number;
  output_tokens: number;
  cost_usd: number;
}

export interface AuditEvent {
  id?: string;
  at?: string;
  created_at?: string;
  actor: string;
  /** The display name of a user actor, null for other actors or an unknown name. */
  actor_name?: string | null;
  action: string;
  target?: string;
  before: unknown;
  after: unknown;
}

/** One page of the audit log; `next` is the `before` cursor of the next page, null on the last page. */
export interface AuditPage {
  events: AuditEvent[];
  next: string | null;
}

export interface ConnectionTest {
  ok: boolean;
  model?: string | null;
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

  /** One page of the audit log, newest first: the first page, or the one after the cursor `before`. */
  async audit(limit = 100, before?: string | null, signal?: AbortSignal): Promise<AuditPage> {
    const query = new URLSearchParams({ limit: String(limit), ...(before ? { before } : {}) });
    const body = await this.json<{ events: AuditEvent[]; next?: string | null }>("GET", `/api/admin/audit?${query}`, undefined, signal);
    return { events: body.events, next: body.next ?? null };
  }
}
