// The pane's fake world for the App tests (app.test.tsx, app-jobs.test.tsx): skills, an API client and a host adapter
// made of spies, and the App rendered in Fluent's provider.
import { FluentProvider, webLightTheme } from "@fluentui/react-components";
import { render } from "@testing-library/react";
import { vi } from "vitest";
import type { ApiClient } from "../src/api/client";
import type { Job, Skill, SkillInput, StreamEvent } from "../src/api/types";
import type { HostAdapter, WriteRequest } from "../src/hosts/types";
import { App } from "../src/ui/App";

// Fluent's Textarea and ProgressBar observe their size; jsdom has no ResizeObserver.
globalThis.ResizeObserver ??= class {
  observe() {}
  unobserve() {}
  disconnect() {}
};

export const MODEL = { provider: "fake", model: "fake-1", location: "eu-west" };
export const USAGE = { input_tokens: 10, output_tokens: 5, cost_usd: 0.001 };

/** A skill as GET /api/skills lists it: a streaming Word text skill unless `extra` says otherwise. */
export function skill(id: string, extra: Partial<Skill> = {}): Skill {
  const input_schema = { type: "object", properties: { text: { type: "string" }, document: { type: "string" }, instructions: { type: "string" } } };
  return { id, name: id, description: "", hosts: ["word"], input_schema, output: "text", streaming: true, long_running: false, ...extra };
}

export const SUMMARIZE = skill("summarize");
export const PROOFREAD = skill("proofread", { output: "edits", streaming: false });
export const SUMMARIZE_DOCUMENT = skill("summarize_document", {
  streaming: false,
  long_running: true,
  input_schema: { type: "object", anyOf: [{ required: ["document"] }], properties: { document: { type: "string" } } },
});

/** An API client of spies: the skills listed, an edits answer, a queued job; `overrides` replace any method. */
export function fakeClient(skills: Skill[], overrides: Partial<Record<keyof ApiClient, unknown>> = {}) {
  const client = {
    skills: vi.fn(async () => skills),
    invoke: vi.fn(async () => ({ run_id: "r1", output: { edits: [] }, model: MODEL, usage: USAGE })),
    invokeStream: vi.fn(),
    createJob: vi.fn(async (skillId: string) => ({ id: "j1", skill: skillId, status: "queued", progress: 0, created_at: "2026-01-01T00:00:00" }) as Job),
    job: vi.fn(async (id: string) => ({ id, skill: "summarize_document", status: "running", progress: 0.5 }) as Job),
    jobs: vi.fn(async () => [] as Job[]),
    cancelJob: vi.fn(async () => undefined),
    ...overrides,
  };
  return client as typeof client & ApiClient;
}

/** A Word host adapter of spies that reads `read` and writes nothing. */
export function fakeHost(read: SkillInput = { text: "The selected words." }) {
  return {
    host: "word" as const,
    readInput: vi.fn(async () => read),
    preview: vi.fn(async () => ({ summary: "preview" })),
    write: vi.fn(async (request: WriteRequest) => ({ summary: `wrote ${request.skill.id}` })),
    canUndo: () => false,
    undo: async () => undefined,
  } satisfies HostAdapter;
}

/** The App in Fluent's provider, as main.tsx renders it. */
export function renderApp(client: ApiClient, host: HostAdapter) {
  return render(
    <FluentProvider theme={webLightTheme}>
      <App client={client} host={host} />
    </FluentProvider>,
  );
}

/** A stream the test feeds by hand: push events, then end or fail it; it notices the abort signal like the client. */
export function controlledStream() {
  const queue: (StreamEvent | Error | null)[] = [];
  let wake: (() => void) | null = null;
  const stream = {
    aborted: false,
    push(item: StreamEvent | Error | null) {
      queue.push(item);
      wake?.();
    },
    async *events(signal?: AbortSignal): AsyncGenerator<StreamEvent> {
      signal?.addEventListener("abort", () => {
        stream.aborted = true;
        wake?.();
      });
      for (;;) {
        if (signal?.aborted) throw new DOMException("The operation was aborted.", "AbortError");
        const item = queue.shift();
        if (item === undefined) {
          await new Promise<void>((resolve) => (wake = resolve));
          continue;
        }
        if (item === null) return;
        if (item instanceof Error) throw item;
        yield item;
        if (item.type === "done") return; // as the client does
      }
    },
  };
  return stream;
}
