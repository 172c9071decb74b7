// Each failure the user can meet, as one clear state: a title, what to do, and whether signing in again helps.
import { ApiProblem } from "../api/errors";

export interface ProblemView {
  kind: "sign_in" | "budget" | "models" | "offline" | "unavailable" | "stopped" | "use_a_job" | "error";
  title: string;
  message: string;
  /** Sending the same request again may work (a network, service or model hiccup): the banner offers Try again. */
  retry?: boolean;
  /** use_a_job: the long-running skill to queue instead of the one that was run (413 `details.job_skill`). */
  jobSkill?: string;
}

/** The state to show for an error thrown by the client, the auth module or a host adapter. */
export function describeProblem(error: unknown): ProblemView {
  if ((error as { name?: string })?.name === "AbortError") return { kind: "stopped", title: "Stopped", message: "You stopped the answer." };
  if (!(error instanceof ApiProblem)) {
    return { kind: "error", title: "Something went wrong", message: "The document could not be read or written. Try again." };
  }
  if (error.code === "offline") return { kind: "offline", title: "You are offline", message: error.message, retry: true };
  if (error.code === "budget_exhausted") {
    return { kind: "budget", title: "Budget used up", message: `Your organisation's AI budget for this period is spent.${retryIn(error)}` };
  }
  if (error.code === "all_models_failed") {
    return { kind: "models", title: "No model could answer", message: "Every model your organisation allows failed. Try again in a moment.", retry: true };
  }
  if (error.status === 401 || error.code.startsWith("sign_in") || error.code === "interaction_required") {
    return { kind: "sign_in", title: "Sign in needed", message: error.message };
  }
  if (error.code === "rate_limited") return { kind: "budget", title: "Too many requests", message: `${error.message}${retryIn(error)}`, retry: true };
  if (UNAVAILABLE.has(error.code)) {
    return { kind: "unavailable", title: "Switchboard is not available", message: `The service is restarting or busy.${retryIn(error) || " Try again in a moment."}`, retry: true };
  }
  if (error.code === "use_a_job") {
    return { kind: "use_a_job", title: "This skill runs as a job", message: "It takes a while, so it runs in the background: run it as a job." };
  }
  if (error.code === "stream_interrupted") {
    // The provider's filter stopped it (details.reason): running it again would only be stopped again.
    if ((error.details as { reason?: unknown } | null)?.reason === "content_filter") {
      return { kind: "error", title: "The content filter stopped the answer", message: "The model provider's content filter stopped the answer midway: the text shown is incomplete." };
    }
    return { kind: "error", title: "The answer was cut off", message: `${error.message} The text shown is incomplete.`, retry: true };
  }
  if (error.code === "content_filtered") return { kind: "error", title: "Blocked by the content filter", message: error.message };
  if (error.code === "provider_bad_answer" || error.code === "invalid_model_output") {
    return { kind: "error", title: "The answer could not be used", message: error.message, retry: true };
  }
  if (error.code === "idempotency_key_reused") {
    return { kind: "error", title: "The job was not started", message: "The pane sent a request it had already used for another job. Run it again." };
  }
  const jobSkill = (error.details as { job_skill?: unknown } | null)?.job_skill;
  if (error.code === "output_truncated") {
    if (typeof jobSkill === "string") {
      const message = `The answer did not fit the model's length limit; the skill ${jobSkill} can do it in the background.`;
      return { kind: "use_a_job", title: "Too long for a direct answer", message, jobSkill };
    }
    return { kind: "error", title: "The answer was too long", message: "The answer did not fit the model's length limit. Select less text and run the skill again." };
  }
  if (error.code === "input_too_large" && typeof jobSkill === "string") {
    const message = `The text is too long to answer here; the skill ${jobSkill} can do it in the background.`;
    return { kind: "use_a_job", title: "Too long for a direct answer", message, jobSkill };
  }
  if (error.code === "input_too_large" || error.code === "range_too_large" || error.code === "payload_too_large") {
    return { kind: "error", title: "Too much to send", message: error.message };
  }
  const refusal = PANE_REFUSALS[error.code];
  if (refusal) return { kind: "error", title: refusal, message: error.message };
  return { kind: "error", title: "The request failed", message: error.message + fieldErrors(error.message, error.details) };
}

/** What the pane itself refuses before sending or writing (nothing was sent: "The request failed" would mislead). */
const PANE_REFUSALS: Record<string, string> = {
  nothing_selected: "Select something first",
  missing_parameters: "Fill in the form",
  target_outside_sheet: "No room for the answer",
  instructions_too_long: "Shorten the instructions",
};

/** Answers of a backend that is restarting or overloaded, or of the proxy in front of it (an HTML page, no contract
 * body: problemFromResponse names those `http_<status>`). */
const UNAVAILABLE = new Set(["dependency_unavailable", "auth_unavailable", "http_502", "http_503", "http_504"]);

/** " Try again in 2 minutes." from a 429's Retry-After, or "". */
function retryIn(error: ApiProblem): string {
  return error.retryAfterSeconds ? ` Try again in ${formatDuration(error.retryAfterSeconds)}.` : "";
}

/** The failing fields of a 422 invalid_input (`details.fields`, worded without quoting the input), unless the
 * message already names them. */
function fieldErrors(message: string, details: unknown): string {
  const fields = (details as { fields?: unknown } | null)?.fields;
  if (!Array.isArray(fields)) return "";
  const named = fields.filter((f): f is { field: string; message: string } => typeof f?.field === "string" && typeof f?.message === "string");
  if (!named.length || named.some((f) => message.includes(f.field))) return "";
  return ` ${named.map((f) => `${f.field}: ${f.message}`).join("; ")}.`;
}

function formatDuration(seconds: number): string {
  if (seconds < 2) return "1 second";
  if (seconds < 120) return `${Math.round(seconds)} seconds`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} minutes`;
  return `${Math.round(seconds / 3600)} hours`;
}
