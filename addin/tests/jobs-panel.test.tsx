// The jobs panel: which models work on a job and what it cost so far, and polls that answer out of order.
import { FluentProvider, webLightTheme } from "@fluentui/react-components";
import { cleanup, render, renderHook, screen, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { ApiClient } from "../src/api/client";
import type { Job, JobUsage } from "../src/api/types";
import { JobsPanel, jobModel, jobUsageLine } from "../src/ui/JobsPanel";
import { useJobs } from "../src/ui/useJobs";

// Fluent's ProgressBar observes its size; jsdom has no ResizeObserver.
globalThis.ResizeObserver ??= class {
  observe() {}
  unobserve() {}
  disconnect() {}
};

afterEach(cleanup);

const GPT = { provider: "openai-main", model: "gpt-4.1-mini", location: "us-east" };
const LOCAL = { provider: "local", model: "gemma", location: "on-prem" };

function usage(calls: number, cost_usd: number, models: JobUsage["models"]): JobUsage {
  return { input_tokens: 100 * calls, output_tokens: 20 * calls, cost_usd, calls, models };
}

function job(status: Job["status"], extra: Partial<Job> = {}): Job {
  return { id: "j1", skill: "summarize_document", status, progress: 0.4, created_at: "2026-01-01T00:00:00", ...extra };
}

function renderPanel(jobs: Job[], names?: Record<string, string>) {
  return render(
    <FluentProvider theme={webLightTheme}>
      <JobsPanel jobs={jobs} names={names} onCancel={() => undefined} onOpen={() => undefined} />
    </FluentProvider>,
  );
}

describe("the jobs' buttons", () => {
  it("say which job they act on, by the skill's name, for a screen reader that lists the buttons", () => {
    const names = { summarize_document: "Summarize document", translate_document: "Translate document" };
    renderPanel([job("running"), job("succeeded", { id: "j2", skill: "translate_document", progress: 0.9 })], names);
    expect(screen.getByRole("button", { name: "Cancel Summarize document" })).toBeTruthy();
    expect(screen.getByRole("button", { name: "Open result of Translate document" })).toBeTruthy();
    expect(screen.getByTestId("job-j2").textContent).toContain("Translate document · succeeded");
    // A finished job is announced as done, as it is drawn, whatever progress its last report had.
    expect(screen.getByRole("progressbar", { name: "Translate document progress" }).getAttribute("aria-valuetext")).toBe("100 percent");
  });
});

describe("a job whose retention has passed", () => {
  it("says its result was deleted instead of offering to open an empty result", () => {
    renderPanel([job("succeeded", { id: "old", progress: 1, stage: "expired" }), job("succeeded", { id: "new", progress: 1, stage: "done" })]);
    const [old, recent] = [screen.getByTestId("job-old"), screen.getByTestId("job-new")];
    expect(old.querySelector("[data-testid=job-expired]")).not.toBeNull();
    expect(old.querySelector("button")).toBeNull();
    expect(recent.querySelector("[data-testid=job-expired]")).toBeNull();
    expect(recent.querySelector("button")?.textContent).toBe("Open result");
  });
});

describe("a job's models and cost in the jobs panel", () => {
  it("names the model working on a running job and what it has cost so far", () => {
    renderPanel([job("running", { usage: usage(3, 0.0042, [{ ...GPT, calls: 3 }]) })]);
    expect(screen.getByTestId("job-usage").textContent).toBe(" Working with gpt-4.1-mini via openai-main (us-east) · 3 calls · $0.0042 so far");
  });

  it("names the model with most calls and how many others took part, once a fallback answered too", () => {
    const running = job("running", { usage: usage(5, 0.02, [{ ...GPT, calls: 4 }, { ...LOCAL, calls: 1 }]) });
    expect(jobUsageLine(running)).toBe("Working with gpt-4.1-mini (+1 more) via openai-main (us-east) · 5 calls · $0.02 so far");
    expect(jobModel(running)).toEqual({ ...GPT, model: "gpt-4.1-mini (+1 more)" });
  });

  it("shows nothing before the first call was metered, and the final figures once the job ended", () => {
    renderPanel([job("running"), job("queued", { id: "j2", usage: usage(0, 0, []) })]);
    expect(screen.queryByTestId("job-usage")).toBeNull();
    cleanup();
    const done = job("succeeded", { progress: 1, usage: usage(1, 0.001, [{ ...LOCAL, calls: 1 }]) });
    renderPanel([done]);
    expect(screen.getByTestId("job-usage").textContent).toBe(" gemma via local (on-prem) · 1 call · $0.0010");
  });

  it("counts the calls from the models when the usage has no total", () => {
    const withoutTotal = usage(0, 0.5, [{ ...GPT, calls: 2 }, { ...LOCAL, calls: 1 }]);
    delete withoutTotal.calls;
    expect(jobUsageLine(job("failed", { usage: withoutTotal }))).toBe("gpt-4.1-mini (+1 more) via openai-main (us-east) · 3 calls · $0.50");
  });
});

describe("polling a running job", () => {
  it("keeps the newer state when a poll answers with an older one, and takes the next newer one", async () => {
    const newer = job("running", { updated_at: "2026-01-01T00:00:05", usage: usage(3, 0.003, [{ ...GPT, calls: 3 }]) });
    const older = job("running", { updated_at: "2026-01-01T00:00:02", usage: usage(1, 0.001, [{ ...GPT, calls: 1 }]) });
    const newest = job("running", { updated_at: "2026-01-01T00:00:09", usage: usage(4, 0.004, [{ ...GPT, calls: 4 }]) });
    const poll = vi.fn().mockResolvedValueOnce(older).mockResolvedValue(newest);
    const client = { jobs: vi.fn(async () => [newer]), job: poll } as unknown as ApiClient;
    const { result } = renderHook(() => useJobs(client, () => undefined));
    await waitFor(() => expect(result.current.jobs).toEqual([newer]));
    await waitFor(() => expect(poll).toHaveBeenCalledTimes(1), { timeout: 3000 });
    await Promise.resolve();
    expect(result.current.jobs[0].usage?.calls).toBe(3); // the late answer did not take the cost back
    await waitFor(() => expect(result.current.jobs[0].usage?.calls).toBe(4), { timeout: 3000 });
  });
});

describe("a failed job's error", () => {
  const error = { code: "provider_error", message: "The model provider failed." };

  function panel(jobs: Job[]) {
    return (
      <FluentProvider theme={webLightTheme}>
        <JobsPanel jobs={jobs} onCancel={() => undefined} onOpen={() => undefined} />
      </FluentProvider>
    );
  }

  it("is shown quietly for a job that had already failed when the pane opened, not read out as an alert", () => {
    render(panel([job("failed", { error }), job("failed", { id: "j2", error: { ...error, message: "Another old failure." } })]));
    expect(screen.queryAllByRole("alert")).toEqual([]);
    expect(screen.getAllByTestId("job-error").map((e) => e.textContent?.trim())).toEqual(["The model provider failed.", "Another old failure."]);
  });

  it("is an alert for a job that fails while the pane watches it, and only for that one", () => {
    const old = job("failed", { id: "old", error: { ...error, message: "An old failure." } });
    const view = render(panel([job("running"), old]));
    expect(screen.queryAllByRole("alert")).toEqual([]);
    view.rerender(panel([job("failed", { error }), old]));
    expect(screen.getAllByRole("alert").map((e) => e.textContent?.trim())).toEqual(["The model provider failed."]);
  });
});
