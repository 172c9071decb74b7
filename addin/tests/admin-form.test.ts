import { describe, expect, it } from "vitest";
import { changedPaths, changeSummary } from "../src/admin/auditDiff";
import {
  disabledSkills,
  errorsFor,
  limitsPatch,
  parseList,
  parsePins,
  pinsText,
  providerForPatch,
  providersPatch,
  selfHostedProvider,
  withProviderEnabled,
} from "../src/admin/settingsForm";
import { bars, csvField, defaultRange, groupDetail, groupLabel, reportTotals, usageCsv } from "../src/admin/usage";

describe("providers in a PATCH", () => {
  const stored = { name: "ourgpu", type: "selfhosted", base_url: "http://gpu:8000/v1", enabled: true, models: [{ id: "m", context_window: 4096 }], api_key_set: true, allowed_models: null };

  it("drops api_key_set and nulls, and omits the key so the stored one is kept", () => {
    const sent = providerForPatch(stored);
    expect(sent).toEqual({ name: "ourgpu", type: "selfhosted", base_url: "http://gpu:8000/v1", enabled: true, models: [{ id: "m", context_window: 4096 }] });
    expect("api_key" in sent).toBe(false);
  });

  it("drops api_key_unreadable, which the schema refuses, so the key can be set again", () => {
    const unreadable = { ...stored, api_key_unreadable: true };
    expect(providerForPatch(unreadable, "sk-again")).toEqual({ ...providerForPatch(stored), api_key: "sk-again" });
    expect("api_key_unreadable" in providersPatch([unreadable], {}).providers![0]).toBe(false);
  });

  it("sends a key only for the provider it was typed for, and never a blank one", () => {
    const patch = providersPatch([stored, { name: "budget", enabled: false }], { ourgpu: " sk-new ", budget: "   " });
    expect(patch.providers?.[0].api_key).toBe("sk-new");
    expect(patch.providers?.[1]).toEqual({ name: "budget", enabled: false });
  });

  it("disables a platform provider with a narrowing row, and toggles an existing row in place", () => {
    expect(withProviderEnabled([stored], "budget", false)).toEqual([stored, { name: "budget", enabled: false }]);
    expect(withProviderEnabled([stored], "ourgpu", false)[0].enabled).toBe(false);
  });

  it("builds a self-hosted endpoint from the form", () => {
    const entry = selfHostedProvider({ name: " gpu ", baseUrl: "http://127.0.0.1:9/v1", modelId: "llama", contextWindow: "8192", location: "" });
    expect(entry).toEqual({ name: "gpu", type: "selfhosted", base_url: "http://127.0.0.1:9/v1", enabled: true, models: [{ id: "llama", context_window: 8192 }] });
  });
});

describe("form fields", () => {
  it("parses pins line by line and round-trips them", () => {
    const { pins, errors } = parsePins("summarize: a/x, b/y\n\ntranslate: c/z\n");
    expect(errors).toEqual([]);
    expect(pins).toEqual({ summarize: ["a/x", "b/y"], translate: ["c/z"] });
    expect(parsePins(pinsText(pins)).pins).toEqual(pins);
  });

  it("reports a pins line without a skill or a model", () => {
    expect(parsePins("summarize:\njust-text").errors.map((e) => e.message)).toEqual([
      'line 1: write "skill: provider/model, …"',
      'line 2: write "skill: provider/model, …"',
    ]);
  });

  it("reads lists without blanks or duplicates", () => {
    expect(parseList("a, b,\n a ,,c")).toEqual(["a", "b", "c"]);
  });

  it("treats a blank limit as none and rejects words and negatives before the API sees them", () => {
    const { patch, errors } = limitsPatch({ tenant_monthly_usd: "500", user_monthly_usd: "" }, { user_requests_per_minute: "1.5", tenant_requests_per_minute: "-3" });
    expect(patch.budgets).toEqual({ tenant_monthly_usd: 500, user_monthly_usd: null });
    expect(errors.map((e) => e.field)).toEqual(["rate_limits/user_requests_per_minute", "rate_limits/tenant_requests_per_minute"]);
    expect(limitsPatch({ tenant_monthly_usd: "lots" }, {}).errors[0].field).toBe("budgets/tenant_monthly_usd");
  });

  it("places API errors on their field and its children only", () => {
    const errors = [
      { field: "providers/1/type", message: "a new provider needs a type" },
      { field: "providers/10", message: "other row" },
      { field: "routing/pins/summarize", message: "unknown model x/y" },
    ];
    expect(errorsFor(errors, "providers/1")).toEqual(["a new provider needs a type"]);
    expect(errorsFor(errors, "routing/pins")).toEqual(["unknown model x/y"]);
    expect(errorsFor(errors, "routing/mode")).toEqual([]);
  });

  it("lists the skills switched off", () => {
    expect(disabledSkills(["ask", "draft", "translate"], { ask: true, translate: false })).toEqual(["translate"]);
  });
});

describe("usage", () => {
  const rows = [
    { model: "premium/premium-1", requests: 2, input_tokens: 380, output_tokens: 10, cost_usd: 0.00205 },
    { model: "budget/budget-1", requests: 1, input_tokens: 190, output_tokens: 5, cost_usd: 0.0001 },
  ];

  it("makes one bar per group; tokens add input and output", () => {
    expect(bars(rows, "model", "requests")).toEqual([
      { key: "premium/premium-1", label: "premium/premium-1", value: 2 },
      { key: "budget/budget-1", label: "budget/budget-1", value: 1 },
    ]);
    expect(bars(rows, "model", "tokens")[0].value).toBe(390);
  });

  it("exports CSV with a header, quoting, and spreadsheet formulas defused", () => {
    expect(usageCsv(rows, "model")).toBe("model,requests,input_tokens,output_tokens,cost_usd\r\npremium/premium-1,2,380,10,0.00205\r\nbudget/budget-1,1,190,5,0.0001\r\n");
    expect(csvField('Smith, "Ann"')).toBe('"Smith, ""Ann"""');
    expect(csvField("=HYPERLINK(1)")).toBe("'=HYPERLINK(1)");
    expect(csvField(-5)).toBe("-5");
    expect(csvField("-1+HYPERLINK(\"https://evil.example\")")).toBe('"\'-1+HYPERLINK(""https://evil.example"")"');
    expect(csvField("-2.5")).toBe("-2.5");
  });

  it("shows a call no model answered as (none)", () => {
    const none = { model: null, requests: 1, input_tokens: 10, output_tokens: 0, cost_usd: 0 };
    expect(bars([none], "model", "requests")).toEqual([{ key: "(none)", label: "(none)", value: 1 }]);
    expect(usageCsv([none], "model")).toContain("\r\n(none),1,10,0,0\r\n");
  });

  it("shows users by name with the id as detail, keyed by id, and exports both", () => {
    const users = [
      { user: "u-1", name: "Ann Lee", requests: 2, input_tokens: 5, output_tokens: 5, cost_usd: 0.1 },
      { user: "u-2", name: "Ann Lee", requests: 1, input_tokens: 5, output_tokens: 5, cost_usd: 0.1 },
      { user: "u-3", name: "", requests: 1, input_tokens: 5, output_tokens: 5, cost_usd: 0.1 },
    ];
    expect(users.map((row) => [groupLabel(row, "user"), groupDetail(row, "user")])).toEqual([
      ["Ann Lee", "u-1"],
      ["Ann Lee", "u-2"],
      ["u-3", null],
    ]);
    expect(bars(users, "user", "requests").map((bar) => bar.key)).toEqual(["u-1", "u-2", "u-3"]); // two Anns, two bars
    expect(usageCsv(users, "user").split("\r\n").slice(0, 2)).toEqual(["user,name,requests,input_tokens,output_tokens,cost_usd", "u-1,Ann Lee,2,5,5,0.1"]);
    expect(usageCsv([{ ...users[0], name: "=cmd()" }], "user")).toContain("u-1,'=cmd(),");
  });

  it("takes the server's exact totals, not the rows' floats added up", () => {
    const tenths = Array.from({ length: 3 }, () => ({ day: "d", requests: 1, input_tokens: 1, output_tokens: 2, cost_usd: 0.1 }));
    expect(tenths.reduce((sum, row) => sum + row.cost_usd, 0)).not.toBe(0.3); // what adding them here would show
    expect(reportTotals({ requests: 3, input_tokens: 3, output_tokens: 6, cost_usd: 0.3 })).toEqual({ requests: 3, tokens: 9, cost: 0.3 });
  });

  it("defaults to the last 30 days in UTC", () => {
    expect(defaultRange(new Date("2026-11-28T23:30:00Z"))).toEqual({ from: "2026-10-30", to: "2026-11-28" });
  });
});

describe("audit summaries", () => {
  it("names the paths that changed", () => {
    expect(changedPaths({ routing: { mode: "cost", pins: {} } }, { routing: { mode: "pinned", pins: { summarize: ["a/b"] } } })).toEqual(["routing/mode", "routing/pins/summarize"]);
  });

  it("says a key changed when nothing visible did", () => {
    const same = { providers: [{ name: "gpu", api_key_set: true }] };
    expect(changeSummary("settings.providers", same, same)).toBe("a provider key was set or replaced (keys are never shown)");
  });
});
