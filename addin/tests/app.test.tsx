// The pane as a user drives it, over a fake API client and a fake host adapter (tests/pane-fakes.tsx); its jobs are
// in app-jobs.test.tsx.
import { act, cleanup, fireEvent, renderHook, screen, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ApiProblem } from "../src/api/errors";
import type { SkillInput, StreamEvent } from "../src/api/types";
import { useRun } from "../src/ui/useRun";
import { controlledStream, fakeClient, fakeHost, MODEL, PROOFREAD, renderApp, skill, SUMMARIZE, SUMMARIZE_DOCUMENT, USAGE } from "./pane-fakes";

const TRANSLATE = skill("translate", {
  input_schema: { type: "object", required: ["text", "target_language"], properties: { text: { type: "string" }, target_language: { type: "string" } } },
});

async function pick(skillId: string) {
  const picker = await screen.findByTestId("skill-picker");
  fireEvent.change(picker, { target: { value: skillId } });
}

afterEach(cleanup);

describe("Run", () => {
  it("starts one call when Run is double-clicked", async () => {
    const stream = controlledStream();
    const client = fakeClient([SUMMARIZE], { invokeStream: vi.fn((_id, _input, _options, signal?: AbortSignal) => stream.events(signal)) });
    renderApp(client, fakeHost());
    const run = await screen.findByTestId("run");
    fireEvent.click(run);
    fireEvent.click(run);
    await waitFor(() => expect(client.invokeStream).toHaveBeenCalled());
    await act(async () => {
      stream.push({ type: "meta", run_id: "r1", model: MODEL });
      stream.push({ type: "done", output: "Done.", usage: USAGE, model: MODEL });
    });
    await screen.findByTestId("insert");
    expect(client.invokeStream).toHaveBeenCalledTimes(1);
  });

  it("says when the answer was cut off at the length limit, and not otherwise", async () => {
    for (const truncated of [true, false]) {
      const stream = controlledStream();
      const client = fakeClient([SUMMARIZE], { invokeStream: vi.fn((_id, _input, _options, signal?: AbortSignal) => stream.events(signal)) });
      renderApp(client, fakeHost());
      fireEvent.click(await screen.findByTestId("run"));
      await waitFor(() => expect(client.invokeStream).toHaveBeenCalled());
      await act(async () => {
        stream.push({ type: "meta", run_id: "r1", model: MODEL });
        stream.push({ type: "delta", text: "The first half" });
        expect(screen.queryByTestId("truncated")).toBeNull(); // not while it streams
        stream.push({ type: "done", output: "The first half", usage: USAGE, model: MODEL, truncated });
      });
      await screen.findByTestId("insert");
      expect(screen.queryByTestId("truncated") !== null).toBe(truncated);
      cleanup();
    }
  });

  it("queues one job when Run is double-clicked on a job skill", async () => {
    const client = fakeClient([SUMMARIZE_DOCUMENT]);
    renderApp(client, fakeHost({ text: "Body.", document: "Body." }));
    const run = await screen.findByTestId("run");
    fireEvent.click(run);
    fireEvent.click(run);
    await screen.findByTestId("job-j1");
    expect(client.createJob).toHaveBeenCalledTimes(1);
  });

  it("reads the whole document for a document skill even when the scope is the selection", async () => {
    const client = fakeClient([SUMMARIZE_DOCUMENT]);
    const host = fakeHost({ text: "Body.", document: "Body." });
    renderApp(client, host);
    fireEvent.click(await screen.findByTestId("run"));
    await screen.findByTestId("job-j1");
    expect(host.readInput).toHaveBeenCalledWith("document");
    expect(vi.mocked(client.createJob).mock.calls[0].slice(0, 2)).toEqual(["summarize_document", { document: "Body." }]);
  });

  it("asks for a skill's own parameters and sends them (translate's target language)", async () => {
    const stream = controlledStream();
    const client = fakeClient([TRANSLATE], { invokeStream: vi.fn((_id, _input, _options, signal?: AbortSignal) => stream.events(signal)) });
    renderApp(client, fakeHost());
    fireEvent.click(await screen.findByTestId("run"));
    expect((await screen.findByRole("alert")).textContent).toContain("Fill in: Target language.");
    expect(client.invokeStream).not.toHaveBeenCalled();
    fireEvent.change(screen.getByTestId("param-target_language"), { target: { value: "French" } });
    fireEvent.click(screen.getByTestId("run"));
    await waitFor(() => expect(client.invokeStream).toHaveBeenCalledTimes(1));
    expect(vi.mocked(client.invokeStream).mock.calls[0][1]).toEqual({ text: "The selected words.", target_language: "French" });
  });
});

describe("switching skill", () => {
  it("stops the answer that is streaming", async () => {
    const stream = controlledStream();
    const client = fakeClient([SUMMARIZE, PROOFREAD], { invokeStream: vi.fn((_id, _input, _options, signal?: AbortSignal) => stream.events(signal)) });
    renderApp(client, fakeHost());
    fireEvent.click(await screen.findByTestId("run"));
    await act(async () => stream.push({ type: "delta", text: "Half an ans" }));
    await screen.findByText("Half an ans");
    await pick("proofread");
    await waitFor(() => expect(stream.aborted).toBe(true));
  });

  it("inserts a finished answer as the skill that gave it, not the one picked since", async () => {
    const client = fakeClient([PROOFREAD, SUMMARIZE], {
      invoke: vi.fn(async () => ({ run_id: "r1", output: { edits: [{ original: "a", replacement: "b", reason: "r" }] }, model: MODEL, usage: USAGE })),
    });
    const host = fakeHost();
    renderApp(client, host);
    fireEvent.click(await screen.findByTestId("run"));
    await screen.findByTestId("insert");
    await pick("summarize");
    fireEvent.click(screen.getByTestId("insert"));
    await waitFor(() => expect(host.write).toHaveBeenCalled());
    expect(host.write.mock.calls[0][0].skill).toEqual({ id: "proofread", output: "edits" });
  });
});

describe("ask", () => {
  const ASK = skill("ask", {
    input_schema: {
      type: "object",
      required: ["instructions"],
      properties: { instructions: { type: "string" }, text: { type: "string" }, document: { type: "string" }, history: { type: "array" } },
    },
  });

  it("sends the earlier questions and answers with a follow-up, until a new conversation starts", async () => {
    const answers = ["The contract is due by 30 June.", "The head of procurement signs it."];
    const invokeStream = vi.fn(async function* (_id: string, _input: SkillInput) {
      yield { type: "done", output: answers.shift() ?? "Again.", usage: USAGE, model: MODEL } as StreamEvent;
    });
    renderApp(fakeClient([ASK], { invokeStream }), fakeHost());
    const ask = async (question: string) => {
      fireEvent.change(await screen.findByTestId("instructions"), { target: { value: question } });
      fireEvent.click(screen.getByTestId("run"));
      await waitFor(() => expect(screen.getByTestId("run").getAttribute("aria-disabled")).not.toBe("true"));
      await screen.findByTestId("provenance");
    };
    await ask("When is the contract due?");
    expect(invokeStream.mock.calls[0][1]).not.toHaveProperty("history");
    await ask("And who signs it?");
    await waitFor(() => expect(invokeStream).toHaveBeenCalledTimes(2));
    expect(invokeStream.mock.calls[1][1]).toMatchObject({
      instructions: "And who signs it?",
      history: [
        { role: "user", content: "When is the contract due?" },
        { role: "assistant", content: "The contract is due by 30 June." },
      ],
    });
    fireEvent.click(await screen.findByTestId("new-conversation"));
    await ask("What is this document?");
    await waitFor(() => expect(invokeStream).toHaveBeenCalledTimes(3));
    expect(invokeStream.mock.calls[2][1]).not.toHaveProperty("history");
  });

  it("offers New conversation only once the answer has ended, so the streaming exchange cannot slip into the new one", async () => {
    const first = controlledStream();
    const second = controlledStream();
    const streams = [first, second];
    const invokeStream = vi.fn((_id: string, _input: SkillInput, _options?: unknown, signal?: AbortSignal) => streams.shift()!.events(signal));
    renderApp(fakeClient([ASK], { invokeStream }), fakeHost());
    const ask = async (question: string, calls: number) => {
      fireEvent.change(await screen.findByTestId("instructions"), { target: { value: question } });
      fireEvent.click(screen.getByTestId("run"));
      await waitFor(() => expect(invokeStream).toHaveBeenCalledTimes(calls));
    };
    await ask("When is the contract due?", 1);
    await act(async () => first.push({ type: "done", output: "By 30 June.", usage: USAGE, model: MODEL }));
    await ask("And who signs it?", 2);
    await act(async () => second.push({ type: "delta", text: "The head of" }));
    const fresh = screen.getByTestId("new-conversation");
    expect(fresh.getAttribute("aria-disabled")).toBe("true"); // still focusable, as Run and Stop are
    fireEvent.click(fresh);
    await act(async () => second.push({ type: "done", output: "The head of procurement.", usage: USAGE, model: MODEL }));
    // The click did nothing: both exchanges are in the conversation, and now it can be started afresh.
    expect(screen.getByTestId("new-conversation").textContent).toContain("2 earlier questions");
    expect(screen.getByTestId("new-conversation").getAttribute("aria-disabled")).not.toBe("true");
    fireEvent.click(screen.getByTestId("new-conversation"));
    expect(screen.queryByTestId("new-conversation")).toBeNull();
  });
});

describe("Replace", () => {
  it("writes over the whole document after a whole-document read, even with a selection made since", async () => {
    const client = fakeClient([PROOFREAD]);
    const host = fakeHost({ text: "The whole body.", document: "The whole body." });
    renderApp(client, host);
    fireEvent.change(await screen.findByTestId("scope"), { target: { value: "document" } });
    fireEvent.click(await screen.findByTestId("run"));
    await screen.findByTestId("replace");
    expect(host.readInput).toHaveBeenCalledWith("document");
    fireEvent.change(screen.getByTestId("scope"), { target: { value: "selection" } });
    fireEvent.click(screen.getByTestId("replace"));
    await waitFor(() => expect(host.write).toHaveBeenCalled());
    expect(host.write.mock.calls[0][0]).toMatchObject({ mode: "replace", scope: "document" });
  });
});

describe("errors", () => {
  it("keeps the text shown before a stream_interrupted error, once, and offers no Insert", async () => {
    const stream = controlledStream();
    const client = fakeClient([SUMMARIZE], { invokeStream: vi.fn((_id, _input, _options, signal?: AbortSignal) => stream.events(signal)) });
    renderApp(client, fakeHost());
    fireEvent.click(await screen.findByTestId("run"));
    await act(async () => {
      stream.push({ type: "meta", run_id: "r1", model: MODEL });
      stream.push({ type: "delta", text: "First part, " });
      stream.push({ type: "delta", text: "second part" });
      stream.push(new ApiProblem(200, "stream_interrupted", "The model stopped answering midway."));
    });
    await screen.findByText("The answer was cut off");
    expect(screen.getByTestId("answer").textContent?.trim()).toBe("First part, second part");
    expect(screen.getByTestId("provenance").textContent).toContain("fake-1");
    expect(screen.queryByTestId("insert")).toBeNull();
  });

  it("offers to run a use_a_job skill as a job, with the same input", async () => {
    const client = fakeClient([PROOFREAD], {
      invoke: vi.fn(async () => {
        throw new ApiProblem(409, "use_a_job", "This skill runs in the background: create a job with POST /api/jobs.");
      }),
    });
    renderApp(client, fakeHost());
    fireEvent.click(await screen.findByTestId("run"));
    fireEvent.click(await screen.findByRole("button", { name: "Run as a job" }));
    await screen.findByTestId("job-j1");
    expect(vi.mocked(client.createJob).mock.calls[0].slice(0, 2)).toEqual(["proofread", { text: "The selected words." }]);
  });

  it("tries the job again, not the direct call, when queueing it failed", async () => {
    const createJob = vi
      .fn()
      .mockRejectedValueOnce(new ApiProblem(0, "offline", "The Switchboard service cannot be reached."))
      .mockResolvedValueOnce({ id: "j1", skill: "proofread", status: "queued", progress: 0, created_at: "2026-01-01T00:00:00" });
    const client = fakeClient([PROOFREAD], {
      createJob,
      invoke: vi.fn(async () => {
        throw new ApiProblem(409, "use_a_job", "This skill runs in the background: create a job with POST /api/jobs.");
      }),
    });
    renderApp(client, fakeHost());
    fireEvent.click(await screen.findByTestId("run"));
    fireEvent.click(await screen.findByRole("button", { name: "Run as a job" }));
    fireEvent.click(await screen.findByRole("button", { name: "Try again" }));
    await screen.findByTestId("job-j1");
    expect(client.invoke).toHaveBeenCalledTimes(1);
    expect(createJob).toHaveBeenCalledTimes(2);
  });

  it("runs a text too long for a direct answer as the job skill the API names, on the same text", async () => {
    const tooLarge = new ApiProblem(413, "input_too_large", "The input is too large.", { size: 9, limit: 5, job_skill: "summarize_document" });
    const client = fakeClient([SUMMARIZE, SUMMARIZE_DOCUMENT], {
      invokeStream: vi.fn(async function* () {
        yield* [];
        throw tooLarge;
      }),
    });
    renderApp(client, fakeHost());
    fireEvent.click(await screen.findByTestId("run"));
    fireEvent.click(await screen.findByRole("button", { name: "Run as a job" }));
    await screen.findByTestId("job-j1");
    expect(vi.mocked(client.createJob).mock.calls[0].slice(0, 2)).toEqual(["summarize_document", { document: "The selected words." }]);
  });
});

describe("useRun", () => {
  it("keeps a job result opened while an answer streamed: the stopped stream does not overwrite it", async () => {
    const stream = controlledStream();
    const client = fakeClient([], { invokeStream: vi.fn((_id, _input, _options, signal?: AbortSignal) => stream.events(signal)) });
    const { result } = renderHook(() => useRun(client));
    let running: Promise<string | null> = Promise.resolve(null);
    act(() => {
      running = result.current.start(SUMMARIZE, { text: "x" });
    });
    await act(async () => stream.push({ type: "delta", text: "partial" }));
    act(() => result.current.show("The job's summary.", USAGE, { id: "summarize_document", output: "text" }));
    await act(() => running);
    expect(result.current.state).toMatchObject({ status: "done", text: "The job's summary.", problem: null });
  });

  it("keeps the model of meta when done does not repeat it", async () => {
    const stream = controlledStream();
    const client = fakeClient([], { invokeStream: vi.fn((_id, _input, _options, signal?: AbortSignal) => stream.events(signal)) });
    const { result } = renderHook(() => useRun(client));
    await act(async () => {
      const running = result.current.start(SUMMARIZE, { text: "x" });
      stream.push({ type: "meta", run_id: "r1", model: MODEL });
      stream.push({ type: "done", output: "All.", usage: USAGE } as StreamEvent);
      await running;
    });
    expect(result.current.state.model).toEqual(MODEL);
  });
});
