// Usage rows into chart series and CSV, the totals shown, and the default date range. Unit-tested.
import type { UsageGrouping, UsageRow, UsageTotals } from "./api";

export type UsageMetric = "requests" | "tokens" | "cost_usd";

export interface Bar {
  key: string; // unique among the bars (two users may share a name)
  label: string;
  value: number;
}

/** The group value of a row as the API keys it (`day`, `model`, `skill` or `user`: the user's id): unique per row;
 * "(none)" for a call no model answered (`model: null`). */
export function groupKey(row: UsageRow, groupBy: UsageGrouping): string {
  const value = row[groupBy];
  return value === null || value === undefined || value === "" ? "(none)" : String(value);
}

/** What a row is shown as: a user by their display name when one is known (else their id), any other group by
 * its key. */
export function groupLabel(row: UsageRow, groupBy: UsageGrouping): string {
  const name = groupBy === "user" && typeof row.name === "string" ? row.name.trim() : "";
  return name || groupKey(row, groupBy);
}

/** The id behind a row's label when the label is a user's name (secondary text and tooltip), else null. */
export function groupDetail(row: UsageRow, groupBy: UsageGrouping): string | null {
  const key = groupKey(row, groupBy);
  return groupLabel(row, groupBy) === key ? null : key;
}

/** One bar per row for a metric; tokens are input plus output. */
export function bars(rows: UsageRow[], groupBy: UsageGrouping, metric: UsageMetric): Bar[] {
  return rows.map((row) => ({
    key: groupKey(row, groupBy),
    label: groupLabel(row, groupBy),
    value: metric === "tokens" ? Number(row.input_tokens) + Number(row.output_tokens) : Number(row[metric]),
  }));
}

/** A CSV field, quoted when it holds a comma, quote or line break; a leading =+-@ is defused for spreadsheets. */
export function csvField(value: unknown): string {
  let text = value === null || value === undefined ? "" : String(value);
  if (/^[=+\-@]/.test(text) && !/^-?\d+(\.\d+)?(e[+-]?\d+)?$/i.test(text)) text = `'${text}`; // "-1+cmd" is a formula
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The usage report as CSV: group, requests, input and output tokens, cost; per user, the id and then the name. */
export function usageCsv(rows: UsageRow[], groupBy: UsageGrouping): string {
  const named = groupBy === "user";
  const header = [groupBy, ...(named ? ["name"] : []), "requests", "input_tokens", "output_tokens", "cost_usd"];
  const lines = rows.map((row) =>
    [groupKey(row, groupBy), ...(named ? [row.name ?? ""] : []), row.requests, row.input_tokens, row.output_tokens, row.cost_usd]
      .map(csvField)
      .join(","),
  );
  return [header.join(","), ...lines].join("\r\n") + "\r\n";
}

/** YYYY-MM-DD of a date, in UTC (the API's days are UTC days). */
export function isoDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}

/** The last 30 days up to today. */
export function defaultRange(now: Date): { from: string; to: string } {
  const from = new Date(now.getTime() - 29 * 86_400_000);
  return { from: isoDay(from), to: isoDay(now) };
}

/** The report's totals as the page shows them: the server's exact sums, never the rows' floats added up here. */
export function reportTotals(totals: UsageTotals): { requests: number; tokens: number; cost: number } {
  return { requests: totals.requests, tokens: totals.input_tokens + totals.output_tokens, cost: totals.cost_usd };
}
