// One skill run's state: streaming (or a single JSON answer), Stop via AbortController, and the final provenance.
import { useCallback, useRef, useState } from "react";
import type { ApiClient } from "../api/client";
import type { ModelInfo, Skill, SkillInput, Usage } from "../api/types";
import { describeProblem, type ProblemView } from "./problems";

export interface RunState {
  status: "idle" | "running" | "done" | "failed";
  text: string;
  output: unknown;
  model: ModelInfo | null;
  usage: Usage | null;
  problem: ProblemView | null;
}

const IDLE: RunState = { status: "idle", text: "", output: undefined, model: null, usage: null, problem: null };

/** Text to show for a structured output (edits, tables, objects) when nothing streamed. */
export function outputAsText(output: unknown): string {
  if (typeof output === "string") return output;
  if (output === undefined || output === null) return "";
  return "```json\n" + JSON.stringify(output, null, 2) + "\n```";
}

export function useRun(client: ApiClient | null) {
  const [state, setState] = useState<RunState>(IDLE);
  const controller = useRef<AbortController | null>(null);

  const start = useCallback(
    async (skill: Skill, input: SkillInput) => {
      if (!client) return;
      controller.current?.abort();
      const abort = new AbortController();
      controller.current = abort;
      setState({ ...IDLE, status: "running" });
      try {
        if (!skill.streaming) {
          const result = await client.invoke(skill.id, input, undefined, abort.signal);
          setState({ status: "done", text: outputAsText(result.output), output: result.output, model: result.model, usage: result.usage, problem: null });
          return;
        }
        let text = "";
        for await (const event of client.invokeStream(skill.id, input, undefined, abort.signal)) {
          if (event.type === "meta") setState((s) => ({ ...s, model: event.model }));
          else if (event.type === "delta") {
            text += event.text;
            const snapshot = text;
            setState((s) => ({ ...s, text: snapshot }));
          } else {
            // done: a string output is the authoritative whole answer; structured output keeps the streamed text
            const finalText = typeof event.output === "string" ? event.output : text || outputAsText(event.output);
            setState({ status: "done", text: finalText, output: event.output, model: event.model, usage: event.usage, problem: null });
          }
        }
      } catch (error) {
        setState((s) => ({ ...s, status: "failed", problem: describeProblem(error) }));
      } finally {
        if (controller.current === abort) controller.current = null;
      }
    },
    [client],
  );

  const stop = useCallback(() => controller.current?.abort(), []);
  const reset = useCallback(() => setState(IDLE), []);
  return { state, start, stop, reset };
}
