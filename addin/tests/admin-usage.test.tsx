// The usage section reloaded quickly: only the latest request's answer is shown, whatever order the answers arrive in.
import { FluentProvider, webLightTheme } from "@fluentui/react-components";
import { act, cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { AdminClient, UsageGrouping, UsageReport } from "../src/admin/api";
import { UsageSection } from "../src/admin/sections/UsageSection";
import { LatestRequest } from "../src/admin/latestRequest";

globalThis.ResizeObserver ??= class {
  observe() {}
  unobserve() {}
  disconnect() {}
};

afterEach(cleanup);

interface Pending {
  groupBy: UsageGrouping;
  signal: AbortSignal;
  answer: (report: UsageReport) => void;
  fail: (error: Error) => void;
}

/** A client whose usage requests the test answers by hand, in any order; like a slow network, an answer may still
 * come after its request was aborted (the fake ignores the signal, so the section must check it itself). */
function slowClient() {
  const pending: Pending[] = [];
  const usage = vi.fn(
    (_from: string, _to: string, groupBy: UsageGrouping, signal: AbortSignal) =>
      new Promise<UsageReport>((answer, fail) => pending.push({ groupBy, signal, answer, fail })),
  );
  return { client: { usage } as unknown as AdminClient, pending };
}

function report(groupBy: UsageGrouping, label: string, requests: number): UsageReport {
  const totals = { requests, input_tokens: 1, output_tokens: 1, cost_usd: 0.5 };
  return { from: "2026-01-01", to: "2026-01-30", group_by: groupBy, rows: [{ [groupBy]: label, ...totals }], totals };
}

function renderSection(client: AdminClient) {
  render(
    <FluentProvider theme={webLightTheme}>
      <UsageSection client={client} />
    </FluentProvider>,
  );
}

const groupSelect = () => document.querySelector("select[name=group_by]") as HTMLSelectElement;

describe("UsageSection reloads", () => {
  it("shows the latest request's answer when an older one arrives after it, and aborts the older ones", async () => {
    const { client, pending } = slowClient();
    renderSection(client);
    await waitFor(() => expect(pending).toHaveLength(1));
    fireEvent.change(groupSelect(), { target: { value: "model" } });
    fireEvent.change(groupSelect(), { target: { value: "skill" } });
    await waitFor(() => expect(pending).toHaveLength(3));
    const [byDay, byModel, bySkill] = pending;
    expect([byDay.signal.aborted, byModel.signal.aborted, bySkill.signal.aborted]).toEqual([true, true, false]);
    await act(async () => bySkill.answer(report("skill", "summarize", 7)));
    expect(screen.getByTestId("usage-table").textContent).toContain("summarize");
    await act(async () => byModel.answer(report("model", "gpt-4.1-mini", 99)));
    await act(async () => byDay.answer(report("day", "2026-01-02", 42)));
    const table = screen.getByTestId("usage-table").textContent;
    expect(table).toContain("summarize");
    expect(table).not.toContain("gpt-4.1-mini");
    expect(table).not.toContain("2026-01-02");
    expect(screen.getByTestId("usage-totals").textContent).toMatch(/^7 requests/);
  });

  it("shows no error of an older request that failed after the latest one answered", async () => {
    const { client, pending } = slowClient();
    renderSection(client);
    await waitFor(() => expect(pending).toHaveLength(1));
    fireEvent.change(groupSelect(), { target: { value: "user" } });
    await waitFor(() => expect(pending).toHaveLength(2));
    await act(async () => pending[1].answer(report("user", "alice", 3)));
    await act(async () => pending[0].fail(new Error("The usage service failed.")));
    expect(screen.queryByRole("alert")).toBeNull();
    expect(screen.getByTestId("usage-table").textContent).toContain("alice");
  });

  it("still shows the latest request's own failure", async () => {
    const { client, pending } = slowClient();
    renderSection(client);
    await waitFor(() => expect(pending).toHaveLength(1));
    await act(async () => pending[0].fail(new Error("Usage could not be read.")));
    expect(screen.getByRole("alert").textContent).toBe("Usage could not be read.");
  });
});

describe("UsageSection rows", () => {
  it("shows users by name with their id beside it, and the server's totals rather than the rows added up", async () => {
    const { client, pending } = slowClient();
    renderSection(client);
    fireEvent.change(groupSelect(), { target: { value: "user" } });
    await waitFor(() => expect(pending).toHaveLength(2));
    const rows = [
      { user: "u-1", name: "Ann Lee", requests: 1, input_tokens: 1, output_tokens: 1, cost_usd: 0.1 },
      { user: "u-2", name: "Ann Lee", requests: 1, input_tokens: 1, output_tokens: 1, cost_usd: 0.1 },
      { user: "u-3", name: "", requests: 1, input_tokens: 1, output_tokens: 1, cost_usd: 0.1 },
    ];
    // Totals that are not what the rows add up to: the page must show the server's (exact) ones.
    const totals = { requests: 30, input_tokens: 10, output_tokens: 20, cost_usd: 0.3 };
    await act(async () => pending[1].answer({ from: "2026-01-01", to: "2026-01-30", group_by: "user", rows, totals }));
    expect(screen.getByTestId("usage-totals").textContent).toMatch(/^30 requests · 30 tokens · \$0\.3000 /);
    const cells = [...screen.getByTestId("usage-table").querySelectorAll("tbody tr td:first-child")];
    expect(cells.map((cell) => [cell.textContent, cell.getAttribute("title")])).toEqual([
      ["Ann Leeu-1", "u-1"],
      ["Ann Leeu-2", "u-2"],
      ["u-3", null],
    ]);
    expect([...document.querySelectorAll("[data-testid=usage-chart] g")].map((bar) => bar.getAttribute("data-label"))).toEqual(["Ann Lee", "Ann Lee", "u-3"]);
  });
});

describe("LatestRequest", () => {
  it("aborts the request before when a new one starts, and every request once cancelled", () => {
    const latest = new LatestRequest();
    const first = latest.start();
    const second = latest.start();
    expect([first.aborted, latest.isCurrent(first), latest.isCurrent(second)]).toEqual([true, false, true]);
    latest.cancel();
    expect([second.aborted, latest.isCurrent(second)]).toEqual([true, false]);
  });
});
