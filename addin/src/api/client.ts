// The API client: fetch with a Bearer token, JSON or a read of the SSE body stream, abort via AbortSignal, and one
// retry after a 401: with the claims of an interaction_required challenge (authChallenge), or with a fresh token when
// the one sent was refused (it expired while the pane stayed open).
import { ApiProblem, offlineProblem, problemFromResponse } from "./errors";
import { readSseStream } from "./sse";
import type { HostName, InvokeResult, Job, Me, Skill, SkillInput, StreamEvent } from "./types";

export interface TokenRequest {
  authChallenge?: string;
  /** The last token was refused (401): do not hand back a cached one. */
  fresh?: boolean;
}
export type TokenProvider = (request?: TokenRequest) => Promise<string>;

export class ApiClient {
  constructor(
    private readonly baseUrl: string,
    private readonly getToken: TokenProvider,
    private readonly fetchImpl: typeof fetch = (...args) => fetch(...args),
  ) {}

  /** Who the token belongs to. */
  me(signal?: AbortSignal): Promise<Me> {
    return this.json<Me>("GET", "/api/me", undefined, signal);
  }

  /** The skills enabled for the caller's tenant on this host. */
  async skills(host: HostName, signal?: AbortSignal): Promise<Skill[]> {
    const body = await this.json<{ skills: Skill[] }>("GET", `/api/skills?host=${host}`, undefined, signal);
    return body.skills;
  }

  /** Run a skill and wait for the whole answer. */
  invoke(skillId: string, input: SkillInput, options?: object, signal?: AbortSignal): Promise<InvokeResult> {
    return this.json<InvokeResult>("POST", `/api/skills/${encodeURIComponent(skillId)}/invoke`, { input, options }, signal);
  }

  /** Run a skill and yield meta, deltas and done; an `error` event is thrown as an ApiProblem. */
  async *invokeStream(skillId: string, input: SkillInput, options?: object, signal?: AbortSignal): AsyncGenerator<StreamEvent> {
    const path = `/api/skills/${encodeURIComponent(skillId)}/invoke`;
    const response = await this.send("POST", path, { input, options }, signal, "text/event-stream");
    if (!response.body) throw new ApiProblem(502, "empty_stream", "The service sent an empty answer.");
    let finished = false;
    for await (const event of lostConnectionAsProblem(readSseStream(response.body, signal))) {
      const data = parseData(event.data);
      if (event.event === "meta") yield { type: "meta", run_id: String(data.run_id ?? ""), model: data.model as never };
      else if (event.event === "delta") yield { type: "delta", text: String(data.text ?? "") };
      else if (event.event === "done") {
        finished = true;
        yield { type: "done", output: data.output, usage: data.usage as never, model: data.model as never, truncated: data.truncated === true };
        return;
      } else if (event.event === "error") {
        throw new ApiProblem(200, String(data.code ?? "stream_error"), String(data.message ?? "The answer failed."), data.details);
      }
    }
    // The connection closed without done or error: never pass off truncated text as a whole answer.
    if (!finished) throw new ApiProblem(0, "stream_interrupted", "The answer was interrupted before it finished.");
  }

  /** Queue a long-running skill as a job. */
  createJob(skill: string, input: SkillInput, idempotencyKey?: string, options?: object): Promise<Job> {
    return this.json<Job>("POST", "/api/jobs", { skill, input, options, idempotency_key: idempotencyKey });
  }

  /** One job's state, progress and (when finished) output. */
  job(id: string, signal?: AbortSignal): Promise<Job> {
    return this.json<Job>("GET", `/api/jobs/${encodeURIComponent(id)}`, undefined, signal);
  }

  /** The caller's jobs, newest first. */
  async jobs(signal?: AbortSignal): Promise<Job[]> {
    const body = await this.json<{ jobs?: Job[]; items?: Job[] }>("GET", "/api/jobs", undefined, signal);
    return body.jobs ?? body.items ?? [];
  }

  /** Ask for a job to stop. */
  async cancelJob(id: string): Promise<void> {
    await this.send("POST", `/api/jobs/${encodeURIComponent(id)}/cancel`, undefined);
  }

  /** A JSON request (subclasses such as the admin client add their own routes). */
  protected async json<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    const response = await this.send(method, path, body, signal, "application/json");
    try {
      return (await response.json()) as T;
    } catch (error) {
      if ((error as { name?: string }).name === "AbortError") throw error;
      throw offlineProblem(); // the connection dropped mid-body (the backend restarting), or a body that is not JSON
    }
  }

  /** Send with a token; after a 401, retry once: with the claims challenge when the API asks for interaction, else
   * with a fresh token (a token that expired mid-session must not leave the pane signed out until it reloads). */
  private async send(method: string, path: string, body: unknown, signal?: AbortSignal, accept = "application/json"): Promise<Response> {
    let response = await this.fetchOnce(method, path, body, await this.getToken(), signal, accept);
    if (response.status === 401) {
      const problem = await problemFromResponse(response);
      const challenged = problem.code === "interaction_required" && problem.claims;
      if (problem.code === "interaction_required" && !challenged) throw problem;
      const token = await this.getToken(challenged ? { authChallenge: problem.claims! } : { fresh: true });
      response = await this.fetchOnce(method, path, body, token, signal, accept);
    }
    if (!response.ok) throw await problemFromResponse(response);
    return response;
  }

  private async fetchOnce(method: string, path: string, body: unknown, token: string, signal: AbortSignal | undefined, accept: string): Promise<Response> {
    const headers: Record<string, string> = { Authorization: `Bearer ${token}`, Accept: accept };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    try {
      return await this.fetchImpl(this.baseUrl + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal,
      });
    } catch (error) {
      if ((error as { name?: string }).name === "AbortError") throw error;
      throw offlineProblem();
    }
  }
}

/** The events of a stream; the connection dropping mid-answer (a backend restarting, the network gone: fetch's body
 * read rejects with a TypeError) is the contract's stream_interrupted, not an error of the pane. */
async function* lostConnectionAsProblem<T>(events: AsyncGenerator<T>): AsyncGenerator<T> {
  try {
    yield* events;
  } catch (error) {
    if (error instanceof ApiProblem || (error as { name?: string }).name === "AbortError") throw error;
    throw new ApiProblem(0, "stream_interrupted", "The connection was lost before the answer finished.");
  }
}

function parseData(data: string): Record<string, unknown> {
  try {
    const value = JSON.parse(data) as unknown;
    return value && typeof value === "object" ? (value as Record<string, unknown>) : {};
  } catch {
    throw new ApiProblem(502, "bad_stream", "The service sent an answer the pane cannot read.");
  }
}
