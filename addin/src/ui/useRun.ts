// One skill run's state: streaming (or a single JSON answer), Stop via AbortController, and the final provenance.
import { useCallback, useEffect, useRef, useState } from "react";
import type { ApiClient } from "../api/client";
import type { ModelInfo, Skill, SkillInput, Usage } from "../api/types";
import { describeProblem, type ProblemView } from "./problems";

export interface RunState {
  status: "idle" | "running" | "done" | "failed";
  /** The skill that gave this answer: Insert and Replace write it as that skill's output, whatever is picked now. */
  skill: Pick<Skill, "id" | "output"> | null;
  text: string;
  output: unknown;
  model: ModelInfo | null;
  usage: Usage | null;
  /** The answer reached the skill's output limit: the text ends where the model was stopped. */
  truncated: boolean;
  problem: ProblemView | null;
}

const IDLE: RunState = { status: "idle", skill: null, text: "", output: undefined, model: null, usage: null, truncated: false, problem: null };

/** Fields that hold the readable answer of a structured output, in order of preference. */
const TEXT_FIELDS = ["text", "summary", "translation", "answer", "content", "explanation"];

/** Text for an output: a string as is, a known text field (or paragraphs) of an object, else a JSON block. */
export function outputAsText(output: unknown): string {
  if (typeof output === "string") return output;
  if (output === undefined || output === null) return "";
  const record = output as Record<string, unknown>;
  if (typeof record.formula === "string") {
    const explanation = typeof record.explanation === "string" ? `\n\n${record.explanation}` : "";
    return "`" + record.formula + "`" + explanation;
  }
  const field = TEXT_FIELDS.find((name) => typeof record[name] === "string");
  if (field) return record[field] as string;
  if (Array.isArray(record.paragraphs) && record.paragraphs.every((p) => typeof p === "string")) return record.paragraphs.join("\n\n");
  return "```json\n" + JSON.stringify(output, null, 2) + "\n```";
}

export function useRun(client: ApiClient | null) {
  const [state, setState] = useState<RunState>(IDLE);
  const controller = useRef<AbortController | null>(null);

  /** Run the skill; the answer's text once it is done (null when it failed, stopped or was replaced). */
  const start = useCallback(
    async (skill: Skill, input: SkillInput): Promise<string | null> => {
      if (!client) return null;
      controller.current?.abort();
      const abort = new AbortController();
      controller.current = abort;
      const answering = { id: skill.id, output: skill.output };
      setState({ ...IDLE, status: "running", skill: answering });
      try {
        if (!skill.streaming) {
          const result = await client.invoke(skill.id, input, undefined, abort.signal);
          if (controller.current !== abort) return null; // replaced by another run or a job's result meanwhile
          const answer = outputAsText(result.output);
          setState({ status: "done", skill: answering, text: answer, output: result.output, model: result.model, usage: result.usage, truncated: result.truncated === true, problem: null });
          return answer;
        }
        let text = "";
        let answer: string | null = null;
        for await (const event of client.invokeStream(skill.id, input, undefined, abort.signal)) {
          if (event.type === "meta") setState((s) => ({ ...s, model: event.model }));
          else if (event.type === "delta") {
            text += event.text;
            const snapshot = text;
            setState((s) => ({ ...s, text: snapshot }));
          } else {
            // done: a string output is the authoritative whole answer; structured output keeps the streamed text
            const finalText = typeof event.output === "string" ? event.output : text || outputAsText(event.output);
            answer = finalText;
            setState((s) => ({ status: "done", skill: answering, text: finalText, output: event.output, model: event.model ?? s.model, usage: event.usage, truncated: event.truncated === true, problem: null }));
          }
        }
        return controller.current === abort ? answer : null;
      } catch (error) {
        // A run replaced by another (or by a job's result) ends here with AbortError: it must not touch their state.
        if (controller.current !== abort) return null;
        setState((s) => ({ ...s, status: "failed", problem: describeProblem(error) }));
        return null;
      } finally {
        if (controller.current === abort) controller.current = null;
      }
    },
    [client],
  );

  /** Show a finished result (a job's) as if it had just been answered, so it can be inserted the same way. */
  const show = useCallback(
    (output: unknown, usage: Usage | null, skill: Pick<Skill, "id" | "output">, model: ModelInfo | null = null, truncated = false) => {
      controller.current?.abort();
      controller.current = null;
      setState({ status: "done", skill, text: outputAsText(output), output, model, usage, truncated, problem: null });
    },
    [],
  );

  const stop = useCallback(() => controller.current?.abort(), []);
  const reset = useCallback(() => {
    controller.current?.abort();
    controller.current = null;
    setState(IDLE);
  }, []);
  // Closing the pane (or unmounting it) ends the request too, so the backend stops the model call.
  useEffect(() => () => controller.current?.abort(), []);
  return { state, start, show, stop, reset };
}
