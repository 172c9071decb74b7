// One error type for everything the API (or the network) can answer, so the UI shows one state per code.

export class ApiProblem extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: unknown;
  readonly retryAfterSeconds: number | null;

  constructor(status: number, code: string, message: string, details?: unknown, retryAfterSeconds: number | null = null) {
    super(message);
    this.name = "ApiProblem";
    this.status = status;
    this.code = code;
    this.details = details;
    this.retryAfterSeconds = retryAfterSeconds;
  }

  /** The claims challenge of an interaction_required answer, to hand back to getAccessToken as authChallenge. */
  get claims(): string | null {
    const details = this.details as { claims?: unknown } | undefined;
    return typeof details?.claims === "string" ? details.claims : null;
  }
}

/** Build an ApiProblem from a non-2xx response, whatever its body holds (the contract shape, other JSON, or text). */
export async function problemFromResponse(response: Response): Promise<ApiProblem> {
  const retryAfter = Number(response.headers.get("Retry-After"));
  const retryAfterSeconds = Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : null;
  let body: unknown = null;
  try {
    body = await response.json();
  } catch {
    body = null; // not JSON: a proxy's HTML page, for example; never show it to the user
  }
  const error = (body as { error?: { code?: unknown; message?: unknown; details?: unknown } } | null)?.error;
  if (error && typeof error.code === "string") {
    const message = typeof error.message === "string" ? error.message : response.statusText;
    return new ApiProblem(response.status, error.code, message, error.details, retryAfterSeconds);
  }
  return new ApiProblem(response.status, `http_${response.status}`, response.statusText || "Request failed", undefined, retryAfterSeconds);
}

/** A network failure (no response at all): the pane shows its offline state. */
export function offlineProblem(): ApiProblem {
  return new ApiProblem(0, "offline", "The Switchboard service cannot be reached. Check your connection.");
}
