// The pane after Run, as a user meets it: Try again after a failure, writing an answer back (once, and where the
// preview said), and the keyboard (Escape stops, Ctrl+Enter runs, Run and Stop keep the focus).
import { act, cleanup, fireEvent, screen, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ApiProblem } from "../src/api/errors";
import type { StreamEvent } from "../src/api/types";
import type { WriteRequest } from "../src/hosts/types";
import { controlledStream, fakeClient, fakeHost, MODEL, renderApp, skill, SUMMARIZE, USAGE } from "./pane-fakes";

afterEach(cleanup);

const DONE: StreamEvent = { type: "done", output: "The summary.", usage: USAGE, model: MODEL };

/** A client whose streams the test feeds, one controlledStream per run. */
function streamingClient() {
  const streams: ReturnType<typeof controlledStream>[] = [];
  const invokeStream = vi.fn((_id: string, _input: unknown, _options: unknown, signal?: AbortSignal) => {
    const stream = controlledStream();
    streams.push(stream);
    return stream.events(signal);
  });
  return { client: fakeClient([SUMMARIZE], { invokeStream }), streams };
}

describe("Try again", () => {
  it("sends the run that failed again, not just the skill list", async () => {
    const { client, streams } = streamingClient();
    renderApp(client, fakeHost());
    fireEvent.click(await screen.findByTestId("run"));
    await waitFor(() => expect(streams).toHaveLength(1));
    await act(async () => streams[0].push(new ApiProblem(503, "all_models_failed", "No allowed model could answer.")));
    fireEvent.click(await screen.findByRole("button", { name: "Try again" }));
    await waitFor(() => expect(streams).toHaveLength(2));
    await act(async () => streams[1].push(DONE));
    expect((await screen.findByTestId("answer")).textContent).toContain("The summary.");
    expect(screen.queryByTestId("problem-models")).toBeNull();
  });

  it("leaves the keyboard focus on Run, not on the page, once the banner and its button are gone", async () => {
    const { client, streams } = streamingClient();
    renderApp(client, fakeHost());
    fireEvent.click(await screen.findByTestId("run"));
    await waitFor(() => expect(streams).toHaveLength(1));
    await act(async () => streams[0].push(new ApiProblem(0, "offline", "The Switchboard service cannot be reached.")));
    const tryAgain = await screen.findByRole("button", { name: "Try again" });
    tryAgain.focus();
    fireEvent.click(tryAgain);
    await waitFor(() => expect(screen.queryByRole("button", { name: "Try again" })).toBeNull());
    expect(document.activeElement).toBe(screen.getByTestId("run"));
  });
});

describe("writing the answer", () => {
  it("writes once when Insert is double-clicked", async () => {
    const { client, streams } = streamingClient();
    const host = fakeHost();
    let finish = () => undefined as void;
    host.write.mockImplementation(() => new Promise((resolve) => (finish = () => resolve({ summary: "Inserted." }))));
    renderApp(client, host);
    fireEvent.click(await screen.findByTestId("run"));
    await waitFor(() => expect(streams).toHaveLength(1));
    await act(async () => streams[0].push(DONE));
    const insert = await screen.findByTestId("insert");
    fireEvent.click(insert);
    fireEvent.click(insert);
    await act(async () => finish());
    await screen.findByText("Inserted.");
    expect(host.write).toHaveBeenCalledTimes(1);
  });

  it("writes to the cells the Excel preview named, even when the selection moved before Write", async () => {
    const CLEAN = skill("clean_data", { hosts: ["excel"], streaming: false, output: "table", input_schema: { type: "object", properties: { range: { type: "object" } } } });
    const client = fakeClient([CLEAN], { invoke: vi.fn(async () => ({ run_id: "r1", output: { table: [["a"], ["b"]] }, model: MODEL, usage: USAGE })) });
    let selected = "Sheet1!A1:A2";
    const host = {
      ...fakeHost({ range: { address: "Sheet1!A1:A2", values: [["a "], [" b"]] } }),
      host: "excel" as const,
      // As the Excel adapter: without a target, the cells are wherever the selection is now.
      preview: vi.fn(async (request: WriteRequest) => ({ summary: `Write 2x1 values to ${request.target ?? selected}.`, target: request.target ?? selected })),
    };
    renderApp(client, host);
    fireEvent.click(await screen.findByTestId("run"));
    fireEvent.click(await screen.findByTestId("replace"));
    await screen.findByText("Write 2x1 values to Sheet1!A1:A2.");
    selected = "Sheet1!F9"; // the user clicked elsewhere in the sheet before confirming
    fireEvent.click(screen.getByTestId("confirm-write"));
    await waitFor(() => expect(host.write).toHaveBeenCalledTimes(1));
    expect(host.write.mock.calls[0][0]).toMatchObject({ mode: "replace", target: "Sheet1!A1:A2", source: "Sheet1!A1:A2" });
  });

  it("says in the preview how many cells holding data the write would overwrite", async () => {
    const CLEAN = skill("clean_data", { hosts: ["excel"], streaming: false, output: "table", input_schema: { type: "object", properties: { range: { type: "object" } } } });
    const client = fakeClient([CLEAN], { invoke: vi.fn(async () => ({ run_id: "r1", output: { table: [["a", "b"]] }, model: MODEL, usage: USAGE })) });
    const before = [["old", "=A1*2", ""]];
    const host = { ...fakeHost({ range: { address: "Sheet1!A1", values: [["a "]] } }), host: "excel" as const, preview: vi.fn(async () => ({ summary: "Write 1x3 values to Sheet1!A1:C1.", before })) };
    renderApp(client, host);
    fireEvent.click(await screen.findByTestId("run"));
    fireEvent.click(await screen.findByTestId("insert"));
    expect((await screen.findByTestId("preview")).textContent).toContain("Write 1x3 values to Sheet1!A1:C1. It overwrites 2 cells that hold data (Undo puts them back).");
  });

  it("gives the focus to Write when the preview opens, and back to Replace when it is cancelled with Escape", async () => {
    const CLEAN = skill("clean_data", { hosts: ["excel"], streaming: false, output: "table", input_schema: { type: "object", properties: { range: { type: "object" } } } });
    const client = fakeClient([CLEAN], { invoke: vi.fn(async () => ({ run_id: "r1", output: { table: [["a"]] }, model: MODEL, usage: USAGE })) });
    const host = { ...fakeHost({ range: { address: "Sheet1!A1", values: [["a "]] } }), host: "excel" as const };
    renderApp(client, host);
    fireEvent.click(await screen.findByTestId("run"));
    const replace = await screen.findByTestId("replace");
    replace.focus();
    fireEvent.click(replace);
    await waitFor(() => expect(document.activeElement).toBe(screen.getByTestId("confirm-write")));
    fireEvent.keyDown(document.activeElement!, { key: "Escape" });
    await waitFor(() => expect(screen.queryByTestId("preview")).toBeNull());
    expect(document.activeElement).toBe(replace);
    expect(host.write).not.toHaveBeenCalled();
  });
});

describe("Replace in Word", () => {
  it("writes over the whole body when the selection read found nothing selected and read the body", async () => {
    const { client, streams } = streamingClient();
    const host = { ...fakeHost({ text: "The whole body." }), lastRead: "document" as const };
    renderApp(client, host);
    fireEvent.click(await screen.findByTestId("run"));
    await waitFor(() => expect(streams).toHaveLength(1));
    await act(async () => streams[0].push(DONE));
    fireEvent.click(await screen.findByTestId("replace"));
    await waitFor(() => expect(host.write).toHaveBeenCalledTimes(1));
    expect(host.write.mock.calls[0][0]).toMatchObject({ mode: "replace", scope: "document" });
  });
});

describe("keyboard", () => {
  it("stops a streaming answer with Escape", async () => {
    const { client, streams } = streamingClient();
    renderApp(client, fakeHost());
    fireEvent.click(await screen.findByTestId("run"));
    await waitFor(() => expect(streams).toHaveLength(1));
    await act(async () => streams[0].push({ type: "delta", text: "Half an ans" }));
    fireEvent.keyDown(screen.getByTestId("instructions"), { key: "Escape" });
    await waitFor(() => expect(streams[0].aborted).toBe(true));
    await screen.findByTestId("problem-stopped");
  });

  it("runs the skill with Ctrl+Enter in the instructions", async () => {
    const { client } = streamingClient();
    renderApp(client, fakeHost());
    fireEvent.keyDown(await screen.findByTestId("instructions"), { key: "Enter", ctrlKey: true });
    await waitFor(() => expect(client.invokeStream).toHaveBeenCalledTimes(1));
  });

  it("keeps Run and Stop focusable while they cannot be used, so the focus is not dropped to the page", async () => {
    const { client, streams } = streamingClient();
    renderApp(client, fakeHost());
    const run = await screen.findByTestId("run");
    const stop = screen.getByTestId("stop");
    expect([stop.hasAttribute("disabled"), stop.getAttribute("aria-disabled")]).toEqual([false, "true"]);
    run.focus();
    fireEvent.click(run);
    await waitFor(() => expect(streams).toHaveLength(1));
    await waitFor(() => expect(run.getAttribute("aria-disabled")).toBe("true"));
    expect(run.hasAttribute("disabled")).toBe(false);
    expect(document.activeElement).toBe(run);
    fireEvent.click(run); // aria-disabled: a second press starts nothing
    expect(client.invokeStream).toHaveBeenCalledTimes(1);
  });

  it("announces what a write did in a live region that was there before it, as screen readers need", async () => {
    const { client, streams } = streamingClient();
    renderApp(client, fakeHost());
    fireEvent.click(await screen.findByTestId("run"));
    await waitFor(() => expect(streams).toHaveLength(1));
    await act(async () => streams[0].push(DONE));
    const status = screen.getByRole("status");
    expect(status.textContent).toBe("");
    fireEvent.click(await screen.findByTestId("insert"));
    await waitFor(() => expect(status.textContent).toBe("wrote summarize"));
    expect(status.isConnected).toBe(true);
  });

  it("says why there is nothing to run when the tenant enabled no skill for this host", async () => {
    renderApp(fakeClient([]), fakeHost());
    expect((await screen.findByTestId("no-skills")).textContent).toContain("No skill is enabled for you in Word");
    expect(screen.getByTestId("run").getAttribute("aria-disabled")).toBe("true");
  });

  it("marks required instructions as required", async () => {
    const ASK = skill("ask", { input_schema: { type: "object", required: ["instructions"], properties: { instructions: { type: "string" }, text: { type: "string" } } } });
    renderApp(fakeClient([ASK]), fakeHost());
    const instructions = await screen.findByTestId("instructions");
    expect(instructions.getAttribute("aria-required") === "true" || instructions.hasAttribute("required")).toBe(true);
  });
});
