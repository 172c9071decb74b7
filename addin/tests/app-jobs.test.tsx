// The pane's jobs as a user follows them: listed again when the pane opens, polled until done or gone, opened with
// their provenance, and submitted again with the same idempotency key after a failure.
import { act, cleanup, fireEvent, renderHook, screen, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ApiProblem } from "../src/api/errors";
import type { Job } from "../src/api/types";
import { useJobs } from "../src/ui/useJobs";
import { fakeClient, fakeHost, MODEL, renderApp, SUMMARIZE_DOCUMENT, USAGE } from "./pane-fakes";

afterEach(cleanup);

describe("jobs", () => {
  it("shows the jobs of an earlier session when the pane opens again, and follows the running ones", async () => {
    const running: Job = { id: "old", skill: "summarize_document", status: "running", progress: 0.3, created_at: "2026-01-01T00:00:00" };
    const client = fakeClient([SUMMARIZE_DOCUMENT], { jobs: vi.fn(async () => [running]) });
    renderApp(client, fakeHost());
    expect((await screen.findByTestId("job-old")).getAttribute("data-status")).toBe("running");
    await waitFor(() => expect(client.job).toHaveBeenCalledWith("old"), { timeout: 3000 });
  });

  it("lists the jobs once the API answers again, when the pane opened while the backend was down", async () => {
    const done: Job = { id: "old", skill: "summarize_document", status: "succeeded", progress: 1, output: "All.", created_at: "2026-01-01T00:00:00" };
    const down = () => Promise.reject(new ApiProblem(502, "http_502", "Bad Gateway"));
    const client = fakeClient([SUMMARIZE_DOCUMENT], {
      skills: vi.fn().mockImplementationOnce(down).mockResolvedValue([SUMMARIZE_DOCUMENT]),
      jobs: vi.fn().mockImplementationOnce(down).mockResolvedValue([done]),
    });
    renderApp(client, fakeHost());
    fireEvent.click(await screen.findByRole("button", { name: "Try again" }));
    await screen.findByTestId("job-old");
    expect(client.jobs).toHaveBeenCalledTimes(2);
  });

  it("drops a job that is gone (404) from the list instead of polling it for ever", async () => {
    const running: Job = { id: "old", skill: "summarize_document", status: "running", progress: 0.3, created_at: "2026-01-01T00:00:00" };
    const job = vi.fn(async () => {
      throw new ApiProblem(404, "not_found", "No such job (or not yours).");
    });
    renderApp(fakeClient([SUMMARIZE_DOCUMENT], { jobs: vi.fn(async () => [running]), job }), fakeHost());
    await screen.findByTestId("job-old");
    await waitFor(() => expect(screen.queryByTestId("job-old")).toBeNull(), { timeout: 3000 });
    const polls = job.mock.calls.length;
    await new Promise((resolve) => setTimeout(resolve, 1200));
    expect(job.mock.calls.length).toBe(polls);
  });

  it("says which model gave a job's result and where it ran, as for any answer", async () => {
    const models = [{ ...MODEL, calls: 3 }, { provider: "local", model: "gemma", location: "on-prem", calls: 1 }];
    const done: Job = { id: "done", skill: "summarize_document", status: "succeeded", progress: 1, output: { summary: "All." },
      usage: { ...USAGE, calls: 4, models }, created_at: "2026-01-01T00:00:00" };
    renderApp(fakeClient([SUMMARIZE_DOCUMENT], { jobs: vi.fn(async () => [done]) }), fakeHost());
    await screen.findByTestId("job-done");
    fireEvent.click(screen.getByRole("button", { name: /open|result|show/i }));
    const badge = await screen.findByTestId("provenance");
    expect(badge.textContent).toContain("fake-1 (+1 more)");
    expect(badge.textContent).toContain("via fake, ran in eu-west");
  });

  it("says when a job's result was cut off at the length limit", async () => {
    for (const truncated of [true, false]) {
      const done: Job = { id: "done", skill: "summarize_document", status: "succeeded", progress: 1, output: { summary: "Half", truncated },
        usage: USAGE, created_at: "2026-01-01T00:00:00" };
      renderApp(fakeClient([SUMMARIZE_DOCUMENT], { jobs: vi.fn(async () => [done]) }), fakeHost());
      await screen.findByTestId("job-done");
      fireEvent.click(screen.getByRole("button", { name: /open result/i }));
      await screen.findByTestId("provenance");
      expect(screen.queryByTestId("truncated") !== null).toBe(truncated);
      cleanup();
    }
  });

  it("sends the same idempotency key again when the same job is retried after a failure", async () => {
    const createJob = vi
      .fn()
      .mockRejectedValueOnce(new ApiProblem(0, "offline", "The Switchboard service cannot be reached."))
      .mockResolvedValueOnce({ id: "j1", skill: "summarize_document", status: "queued", progress: 0 })
      .mockResolvedValueOnce({ id: "j2", skill: "summarize_document", status: "queued", progress: 0 });
    const client = fakeClient([], { createJob });
    const errors: unknown[] = [];
    const { result } = renderHook(() => useJobs(client, (error) => errors.push(error)));
    await act(() => result.current.submit(SUMMARIZE_DOCUMENT, { document: "Body." }));
    await act(() => result.current.submit(SUMMARIZE_DOCUMENT, { document: "Body." }));
    expect(createJob.mock.calls[0][2]).toBe(createJob.mock.calls[1][2]);
    expect(errors).toHaveLength(1);
    await act(() => result.current.submit(SUMMARIZE_DOCUMENT, { document: "Body." }));
    expect(createJob.mock.calls[2][2]).not.toBe(createJob.mock.calls[1][2]); // a new run after success is a new job
  });

  it("retries once with a fresh key when the server says the key was used for another request", async () => {
    const createJob = vi
      .fn()
      .mockRejectedValueOnce(new ApiProblem(409, "idempotency_key_reused", "This idempotency key was already used for a different request."))
      .mockResolvedValueOnce({ id: "j2", skill: "summarize_document", status: "queued", progress: 0 });
    const client = fakeClient([], { createJob });
    const errors: unknown[] = [];
    const { result } = renderHook(() => useJobs(client, (error) => errors.push(error)));
    await act(() => result.current.submit(SUMMARIZE_DOCUMENT, { document: "Body." }));
    expect(createJob).toHaveBeenCalledTimes(2);
    expect(createJob.mock.calls[1][2]).not.toBe(createJob.mock.calls[0][2]);
    expect(errors).toEqual([]);
    expect(result.current.jobs.map((job) => job.id)).toEqual(["j2"]);
  });
});
