// Each failure the user can meet, as one clear state: a title, what to do, and whether signing in again helps.
import { ApiProblem } from "../api/errors";

export interface ProblemView {
  kind: "sign_in" | "budget" | "models" | "offline" | "stopped" | "error";
  title: string;
  message: string;
}

/** The state to show for an error thrown by the client, the auth module or a host adapter. */
export function describeProblem(error: unknown): ProblemView {
  if ((error as { name?: string })?.name === "AbortError") return { kind: "stopped", title: "Stopped", message: "You stopped the answer." };
  if (!(error instanceof ApiProblem)) {
    return { kind: "error", title: "Something went wrong", message: "The document could not be read or written. Try again." };
  }
  if (error.code === "offline") return { kind: "offline", title: "You are offline", message: error.message };
  if (error.code === "budget_exhausted") {
    const retry = error.retryAfterSeconds ? ` Try again in ${formatDuration(error.retryAfterSeconds)}.` : "";
    return { kind: "budget", title: "Budget used up", message: `Your organisation's AI budget for this period is spent.${retry}` };
  }
  if (error.code === "all_models_failed") {
    return { kind: "models", title: "No model could answer", message: "Every model your organisation allows failed. Try again in a moment." };
  }
  if (error.status === 401 || error.code.startsWith("sign_in") || error.code === "interaction_required") {
    return { kind: "sign_in", title: "Sign in needed", message: error.message };
  }
  if (error.code === "rate_limited") return { kind: "budget", title: "Too many requests", message: error.message };
  return { kind: "error", title: "The request failed", message: error.message };
}

function formatDuration(seconds: number): string {
  if (seconds < 120) return `${Math.round(seconds)} seconds`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} minutes`;
  return `${Math.round(seconds / 3600)} hours`;
}
