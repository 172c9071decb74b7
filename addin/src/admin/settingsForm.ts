// The console's form logic, free of React so it can be unit-tested: turning edits into PATCH bodies (keys only when
// typed, never echoed), parsing number and list fields, and placing the API's 422 details next to their fields.
import type { ProviderEntry, SettingsPatch, TenantSettings } from "./api";

export interface FieldError {
  field: string;
  message: string;
}

/** The 422 details of an ApiProblem, or [] when it carries none. */
export function detailsOf(problem: unknown): FieldError[] {
  const details = (problem as { details?: unknown } | null)?.details;
  if (!Array.isArray(details)) return [];
  return details.filter((d): d is FieldError => typeof d?.field === "string" && typeof d?.message === "string");
}

/** The errors of one field: its exact path or anything below it (`providers/0` matches `providers/0/type`). */
export function errorsFor(errors: FieldError[], field: string): string[] {
  return errors.filter((e) => e.field === field || e.field.startsWith(`${field}/`)).map((e) => e.message);
}

/** A provider as it goes back in a PATCH: the answer-only `api_key_set` and `api_key_unreadable` dropped (the schema
 * refuses them), a key only when one was typed for it. */
export function providerForPatch(provider: ProviderEntry, typedKey?: string): ProviderEntry {
  const { api_key_set: _set, api_key_unreadable: _unreadable, api_key: _key, ...rest } = provider;
  void _set;
  void _unreadable;
  void _key; // an old key is never resent: omitting it keeps the stored one
  const cleaned = Object.fromEntries(Object.entries(rest).filter(([, value]) => value !== undefined && value !== null)) as unknown as ProviderEntry;
  return typedKey ? { ...cleaned, api_key: typedKey } : cleaned;
}

/** The providers list for a PATCH, with the keys typed so far (by provider name); blank keys are left out. */
export function providersPatch(providers: ProviderEntry[], typedKeys: Record<string, string>): SettingsPatch {
  return { providers: providers.map((p) => providerForPatch(p, typedKeys[p.name]?.trim() || undefined)) };
}

/** Enable or disable a provider: a platform provider gets (or updates) a narrowing row of the tenant's. */
export function withProviderEnabled(providers: ProviderEntry[], name: string, enabled: boolean): ProviderEntry[] {
  if (providers.some((p) => p.name === name)) return providers.map((p) => (p.name === name ? { ...p, enabled } : p));
  return [...providers, { name, enabled }];
}

export interface NewEndpoint {
  name: string;
  baseUrl: string;
  modelId: string;
  contextWindow: string;
  location: string;
}

/** A self-hosted (OpenAI-compatible) endpoint of the tenant's own, as a provider entry. */
export function selfHostedProvider(form: NewEndpoint): ProviderEntry {
  return {
    name: form.name.trim(),
    type: "selfhosted",
    base_url: form.baseUrl.trim(),
    enabled: true,
    models: [
      {
        id: form.modelId.trim(),
        context_window: Number(form.contextWindow) || 0,
        ...(form.location.trim() ? { location: form.location.trim() } : {}),
      },
    ],
  };
}

/** A comma- or newline-separated list, trimmed, blanks dropped, duplicates removed. */
export function parseList(text: string): string[] {
  return [...new Set(text.split(/[\n,]/).map((item) => item.trim()).filter(Boolean))];
}

/** Per-skill pins from lines like `summarize: cheap/gpt-test, claude/claude-test`. */
export function parsePins(text: string): { pins: Record<string, string[]>; errors: FieldError[] } {
  const pins: Record<string, string[]> = {};
  const errors: FieldError[] = [];
  text.split("\n").forEach((line, index) => {
    if (!line.trim()) return;
    const colon = line.indexOf(":");
    const skill = colon > 0 ? line.slice(0, colon).trim() : "";
    const refs = colon > 0 ? parseList(line.slice(colon + 1)) : [];
    if (!skill || refs.length === 0) errors.push({ field: "routing/pins", message: `line ${index + 1}: write "skill: provider/model, …"` });
    else pins[skill] = refs;
  });
  return { pins, errors };
}

/** Pins back as text, one skill per line. */
export function pinsText(pins: Record<string, string[]>): string {
  return Object.entries(pins)
    .map(([skill, refs]) => `${skill}: ${refs.join(", ")}`)
    .join("\n");
}

/** A number field: blank means "no limit" (null); anything else must be a non-negative number. */
export function parseLimit(text: string, field: string, integer = false): { value: number | null; error?: FieldError } {
  const trimmed = text.trim();
  if (!trimmed) return { value: null };
  const value = Number(trimmed);
  if (!Number.isFinite(value) || value < 0 || (integer && !Number.isInteger(value))) {
    return { value: null, error: { field, message: integer ? "must be a whole number of at least 1, or blank" : "must be a number of at least 0, or blank" } };
  }
  return { value };
}

/** Budgets and rate limits from their text fields; errors found here never reach the API. */
export function limitsPatch(budgets: Record<string, string>, rateLimits: Record<string, string>): { patch: SettingsPatch; errors: FieldError[] } {
  const errors: FieldError[] = [];
  const read = (group: string, values: Record<string, string>, integer: boolean) =>
    Object.fromEntries(
      Object.entries(values).map(([key, text]) => {
        const parsed = parseLimit(text, `${group}/${key}`, integer);
        if (parsed.error) errors.push(parsed.error);
        return [key, parsed.value];
      }),
    );
  const patch = { budgets: read("budgets", budgets, false), rate_limits: read("rate_limits", rateLimits, true) } as SettingsPatch;
  return { patch, errors };
}

/** The text form of a limit (null shows as blank). */
export function limitText(value: number | null | undefined): string {
  return value === null || value === undefined ? "" : String(value);
}

/** Skills off: the ids whose switch is off, in catalog order. */
export function disabledSkills(allSkills: string[], enabled: Record<string, boolean>): string[] {
  return allSkills.filter((id) => enabled[id] === false);
}

/** Whether a document still holds the version an edit started from (else the PATCH would answer 409). */
export function withVersion(patch: SettingsPatch, settings: TenantSettings): SettingsPatch {
  return { ...patch, expected_version: settings.version };
}
