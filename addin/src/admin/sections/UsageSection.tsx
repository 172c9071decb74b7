// Usage: requests, tokens or cost per day, model, skill or user over a date range, as a chart and a table; CSV export.
import { Button, Field, Input, Select, Text, Title3 } from "@fluentui/react-components";
import { useCallback, useEffect, useRef, useState } from "react";
import type { AdminClient, UsageGrouping, UsageReport } from "../api";
import { LatestRequest } from "../latestRequest";
import { bars, defaultRange, groupDetail, groupKey, groupLabel, reportTotals, usageCsv, type UsageMetric } from "../usage";
import { BarChart } from "./BarChart";

const METRICS: Record<UsageMetric, string> = { requests: "Requests", tokens: "Tokens", cost_usd: "Cost (USD)" };
const GROUPS: UsageGrouping[] = ["day", "model", "skill", "user"];

export function UsageSection({ client }: { client: AdminClient }) {
  const [range, setRange] = useState(() => defaultRange(new Date()));
  const [groupBy, setGroupBy] = useState<UsageGrouping>("day");
  const [metric, setMetric] = useState<UsageMetric>("requests");
  const [report, setReport] = useState<UsageReport | null>(null);
  const [problem, setProblem] = useState<string | null>(null);

  const latest = useRef(new LatestRequest());

  const load = useCallback(async () => {
    // Changing the filters quickly starts several reloads: each aborts the one before, and only the latest one's
    // answer (or failure) is shown, whatever order they arrive in.
    const signal = latest.current.start();
    setProblem(null);
    try {
      const answer = await client.usage(range.from, range.to, groupBy, signal);
      if (latest.current.isCurrent(signal)) setReport(answer);
    } catch (error) {
      if (latest.current.isCurrent(signal)) setProblem(error instanceof Error ? error.message : "Usage could not load.");
    }
  }, [client, range, groupBy]);
  useEffect(() => {
    void load();
  }, [load]);
  useEffect(() => {
    const requests = latest.current;
    return () => requests.cancel(); // leaving the tab: nothing may arrive after
  }, []);

  const exportCsv = () => {
    if (!report) return;
    const link = document.createElement("a");
    link.href = URL.createObjectURL(new Blob([usageCsv(report.rows, report.group_by)], { type: "text/csv" }));
    link.download = `usage-${report.group_by}-${report.from}-${report.to}.csv`;
    link.click();
    URL.revokeObjectURL(link.href);
  };

  const format = (value: number) => (metric === "cost_usd" ? `$${value.toFixed(4)}` : value.toLocaleString("en"));
  const sum = report ? reportTotals(report.totals) : null;
  return (
    <section aria-label="Usage">
      <Title3>Usage</Title3>
      <div className="admin-toolbar">
        <Field label="From">
          <Input type="date" name="from" value={range.from} onChange={(_, data) => data.value && setRange((r) => ({ ...r, from: data.value }))} />
        </Field>
        <Field label="To">
          <Input type="date" name="to" value={range.to} onChange={(_, data) => data.value && setRange((r) => ({ ...r, to: data.value }))} />
        </Field>
        <Field label="Per">
          <Select name="group_by" value={groupBy} onChange={(_, data) => setGroupBy(data.value as UsageGrouping)}>
            {GROUPS.map((group) => (
              <option key={group}>{group}</option>
            ))}
          </Select>
        </Field>
        <Field label="Show">
          <Select name="metric" value={metric} onChange={(_, data) => setMetric(data.value as UsageMetric)}>
            {Object.entries(METRICS).map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </Select>
        </Field>
        <Button onClick={() => void load()}>Refresh</Button>
        <Button onClick={exportCsv} disabled={!report?.rows.length}>
          Export CSV
        </Button>
      </div>
      {problem ? (
        <Text role="alert" className="admin-error">
          {problem}
        </Text>
      ) : null}
      {report && sum ? (
        <>
          <Text data-testid="usage-totals">
            {sum.requests} requests · {sum.tokens.toLocaleString("en")} tokens · ${sum.cost.toFixed(4)} from {report.from} to {report.to}
          </Text>
          <BarChart bars={bars(report.rows, report.group_by, metric)} title={`${METRICS[metric]} per ${report.group_by}`} format={format} />
          <table className="admin-table" data-testid="usage-table">
            <thead>
              <tr>
                <th>{report.group_by}</th>
                <th>Requests</th>
                <th>Input tokens</th>
                <th>Output tokens</th>
                <th>Cost (USD)</th>
              </tr>
            </thead>
            <tbody>
              {report.rows.map((row) => (
                <tr key={groupKey(row, report.group_by)}>
                  <td title={groupDetail(row, report.group_by) ?? undefined}>
                    {groupLabel(row, report.group_by)}
                    {groupDetail(row, report.group_by) ? (
                      <Text size={200} block className="admin-secondary">
                        {groupDetail(row, report.group_by)}
                      </Text>
                    ) : null}
                  </td>
                  <td>{row.requests}</td>
                  <td>{row.input_tokens}</td>
                  <td>{row.output_tokens}</td>
                  <td>{Number(row.cost_usd).toFixed(6)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      ) : null}
    </section>
  );
}
