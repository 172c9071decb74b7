// Chat about the document (the `ask` skill): the earlier questions and answers go with each new question, as the
// skill's `history` input, so a follow-up ("and who signs it?") is understood. Bounded as the skill's schema bounds
// it; "New conversation" starts afresh (and a conversation too long for a direct call is refused with a 413 that
// says so).
import type { Skill } from "../api/types";

export interface Turn {
  role: "user" | "assistant";
  content: string;
}

export const MAX_TURNS = 40;
export const MAX_TURN_CHARS = 20_000;

/** Whether the skill takes the earlier turns of a conversation. */
export function takesHistory(skill: Skill): boolean {
  const properties = (skill.input_schema as { properties?: Record<string, unknown> }).properties ?? {};
  return "history" in properties;
}

/** The conversation with one more question and its answer, keeping the newest MAX_TURNS turns. */
export function withExchange(turns: Turn[], question: string, answer: string): Turn[] {
  const exchange: Turn[] = [
    { role: "user", content: question.slice(0, MAX_TURN_CHARS) },
    { role: "assistant", content: answer.slice(0, MAX_TURN_CHARS) },
  ];
  return [...turns, ...exchange].slice(-MAX_TURNS);
}
