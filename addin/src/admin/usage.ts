// Usage rows into chart series and CSV, the default date range, and the latest-reload-wins rule. Unit-tested.
import type { UsageGrouping, UsageRow } from "./api";

export type UsageMetric = "requests" | "tokens" | "cost_usd";

export interface Bar {
  label: string;
  value: number;
}

/** The group name of a row (the API keys each row by its grouping: `day`, `model`, `skill` or `user`). */
export function groupLabel(row: UsageRow, groupBy: UsageGrouping): string {
  const value = row[groupBy];
  return value === null || value === undefined || value === "" ? "(none)" : String(value);
}

/** One bar per row for a metric; tokens are input plus output. */
export function bars(rows: UsageRow[], groupBy: UsageGrouping, metric: UsageMetric): Bar[] {
  return rows.map((row) => ({
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

/** The usage report as CSV: group, requests, input and output tokens, cost. */
export function usageCsv(rows: UsageRow[], groupBy: UsageGrouping): string {
  const header = [groupBy, "requests", "input_tokens", "output_tokens", "cost_usd"];
  const lines = rows.map((row) =>
    [groupLabel(row, groupBy), row.requests, row.input_tokens, row.output_tokens, row.cost_usd].map(csvField).join(","),
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

/** Totals across rows. */
export function totals(rows: UsageRow[]): { requests: number; tokens: number; cost: number } {
  return rows.reduce(
    (sum, row) => ({
      requests: sum.requests + Number(row.requests),
      tokens: sum.tokens + Number(row.input_tokens) + Number(row.output_tokens),
      cost: sum.cost + Number(row.cost_usd),
    }),
    { requests: 0, tokens: 0, cost: 0 },
  );
}

/** Reloads of which only the latest counts: starting one aborts the one before, and an answer is applied only while
 * its request is still the latest (a fetch may have answered before its abort took effect). */
export class LatestRequest {
  private current: AbortController | null = null;

  /** Abort the request in flight, if any, and give the new one its signal. */
  start(): AbortSignal {
    this.current?.abort();
    this.current = new AbortController();
    return this.current.signal;
  }

  /** Whether the request with this signal is still the latest and was not cancelled. */
  isCurrent(signal: AbortSignal): boolean {
    return this.current?.signal === signal && !signal.aborted;
  }

  /** Abort the request in flight; no answer counts after this. */
  cancel(): void {
    this.current?.abort();
    this.current = null;
  }
}
