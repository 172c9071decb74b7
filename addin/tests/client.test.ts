// @vitest-environment node
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ApiClient, type TokenRequest } from "../src/api/client";
import { ApiProblem } from "../src/api/errors";
import type { StreamEvent } from "../src/api/types";
import { LoopbackServer, sleep, writeInPieces } from "./loopback";

let server: LoopbackServer;
let baseUrl: string;
let tokenRequests: (TokenRequest | undefined)[];

function client(): ApiClient {
  return new ApiClient(baseUrl, async (request) => {
    tokenRequests.push(request);
    return request?.authChallenge ? "token-after-challenge" : request?.fresh ? "token-2" : "token-1";
  });
}

async function collect(stream: AsyncGenerator<StreamEvent>): Promise<StreamEvent[]> {
  const events: StreamEvent[] = [];
  for await (const event of stream) events.push(event);
  return events;
}

async function caught(promise: Promise<unknown>): Promise<ApiProblem> {
  try {
    await promise;
  } catch (error) {
    return error as ApiProblem;
  }
  throw new Error("expected a failure");
}

const MODEL = { provider: "fake", model: "fake-1", location: "local" };

beforeEach(async () => {
  server = new LoopbackServer();
  baseUrl = await server.start();
  tokenRequests = [];
});
afterEach(() => server.stop());

describe("ApiClient streaming", () => {
  it("sends the token and Accept header and yields meta, deltas and done across awkward chunk boundaries", async () => {
    const wire =
      `event: meta\ndata: ${JSON.stringify({ run_id: "r1", model: MODEL })}\n\n` +
      'event: delta\ndata: {"text":"Hel"}\n\nevent: delta\ndata: {"text":"lo ✓"}\n\n' +
      `event: done\ndata: ${JSON.stringify({ output: "Hello ✓", usage: { input_tokens: 3, output_tokens: 2, cost_usd: 0.001 }, model: MODEL })}\n\n`;
    const bytes = Buffer.from(wire);
    const tick = bytes.indexOf(Buffer.from("✓")) + 1; // cut inside the 3-byte character
    server.handler = async (_req, res) => {
      await writeInPieces(res, [], 0);
      for (const piece of [bytes.subarray(0, 7), bytes.subarray(7, tick), bytes.subarray(tick)]) {
        res.write(piece);
        await sleep(5);
      }
      res.end();
    };
    const events = await collect(client().invokeStream("summarize", { text: "long text" }));
    expect(events.map((e) => e.type)).toEqual(["meta", "delta", "delta", "done"]);
    expect(events.filter((e) => e.type === "delta").map((e) => (e as { text: string }).text).join("")).toBe("Hello ✓");
    const request = server.requests[0];
    expect(request.method).toBe("POST");
    expect(request.url).toBe("/api/skills/summarize/invoke");
    expect(request.headers.authorization).toBe("Bearer token-1");
    expect(request.headers.accept).toBe("text/event-stream");
    expect(JSON.parse(request.body)).toEqual({ input: { text: "long text" } });
  });

  it("turns an error event into an ApiProblem after the deltas already yielded", async () => {
    server.handler = async (_req, res) => {
      await writeInPieces(res, [
        `event: meta\ndata: ${JSON.stringify({ run_id: "r2", model: MODEL })}\n\n`,
        'event: delta\ndata: {"text":"partial"}\n\n',
        'event: error\ndata: {"code":"all_models_failed","message":"Every model failed."}\n\n',
      ]);
      res.end();
    };
    const seen: StreamEvent[] = [];
    const problem = await caught((async () => {
      for await (const event of client().invokeStream("summarize", { text: "x" })) seen.push(event);
    })());
    expect(problem).toBeInstanceOf(ApiProblem);
    expect(problem.code).toBe("all_models_failed");
    expect(seen.map((e) => e.type)).toEqual(["meta", "delta"]);
  });

  it("passes on that done's answer was cut off at the output limit", async () => {
    const done = { output: "The first half", usage: { input_tokens: 3, output_tokens: 2, cost_usd: 0 }, model: MODEL };
    for (const truncated of [true, false]) {
      server.handler = async (_req, res) => {
        await writeInPieces(res, [`event: done\ndata: ${JSON.stringify({ ...done, truncated })}\n\n`]);
        res.end();
      };
      const events = await collect(client().invokeStream("summarize", { text: "x" }));
      expect(events).toEqual([{ type: "done", ...done, truncated }]);
    }
  });

  it("reports a stream that ends without done or error as interrupted", async () => {
    server.handler = async (_req, res) => {
      await writeInPieces(res, ['event: delta\ndata: {"text":"cut"}\n\n']);
      res.end();
    };
    const problem = await caught(collect(client().invokeStream("summarize", { text: "x" })));
    expect(problem.code).toBe("stream_interrupted");
  });

  it("reports a connection lost mid-answer (the backend restarting) as interrupted, not as an error of the pane", async () => {
    server.handler = async (_req, res) => {
      await writeInPieces(res, ['event: delta\ndata: {"text":"cut"}\n\n']);
      res.socket?.destroy();
    };
    const seen: string[] = [];
    const problem = await caught((async () => {
      for await (const event of client().invokeStream("summarize", { text: "x" })) seen.push(event.type);
    })());
    expect(problem).toBeInstanceOf(ApiProblem);
    expect(problem.code).toBe("stream_interrupted");
    expect(seen).toEqual(["delta"]);
  });

  it("aborts mid-stream: the loop ends with AbortError and the server sees the connection close", async () => {
    server.handler = async (_req, res) => {
      await writeInPieces(res, ['event: delta\ndata: {"text":"first"}\n\n']);
      await sleep(2000); // would keep streaming; the client stops first
      res.end('event: done\ndata: {"output":"late"}\n\n');
    };
    const abort = new AbortController();
    const seen: string[] = [];
    const error = await caught((async () => {
      for await (const event of client().invokeStream("summarize", { text: "x" }, undefined, abort.signal)) {
        seen.push(event.type);
        abort.abort();
      }
    })());
    expect((error as unknown as Error).name).toBe("AbortError");
    expect(seen).toEqual(["delta"]);
    await sleep(50);
    expect(server.closedConnections).toBe(1);
  });
});

describe("ApiClient errors", () => {
  it("reads budget_exhausted with its Retry-After", async () => {
    server.handler = (_req, res) => {
      res.writeHead(429, { "Content-Type": "application/json", "Retry-After": "3600" });
      res.end(JSON.stringify({ error: { code: "budget_exhausted", message: "Monthly budget reached." } }));
    };
    const problem = await caught(collect(client().invokeStream("summarize", { text: "x" })));
    expect([problem.status, problem.code, problem.message, problem.retryAfterSeconds]).toEqual([429, "budget_exhausted", "Monthly budget reached.", 3600]);
  });

  it("keeps the details of all_models_failed", async () => {
    server.handler = (_req, res) => {
      res.writeHead(503, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ error: { code: "all_models_failed", message: "No model answered.", details: { attempts: [{ model: "a" }] } } }));
    };
    const problem = await caught(client().invoke("summarize", { text: "x" }));
    expect(problem.status).toBe(503);
    expect(problem.details).toEqual({ attempts: [{ model: "a" }] });
  });

  it("retries once with the claims challenge after interaction_required", async () => {
    server.handler = (req, res) => {
      if (req.headers.authorization === "Bearer token-after-challenge") {
        res.writeHead(200, { "Content-Type": "application/json" });
        res.end(JSON.stringify({ tenant_id: "t", user_id: "u", name: "N", roles: ["user"], tenant: { name: "T", status: "active" } }));
        return;
      }
      res.writeHead(401, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ error: { code: "interaction_required", message: "MFA needed.", details: { claims: '{"access_token":{"acrs":{"essential":true}}}' } } }));
    };
    const me = await client().me();
    expect(me.user_id).toBe("u");
    expect(tokenRequests).toEqual([undefined, { authChallenge: '{"access_token":{"acrs":{"essential":true}}}' }]);
    expect(server.requests).toHaveLength(2);
  });

  it("retries a refused token once with a fresh one: a token that expired mid-session", async () => {
    server.handler = (req, res) => {
      if (req.headers.authorization === "Bearer token-2") {
        res.writeHead(200, { "Content-Type": "application/json" });
        res.end(JSON.stringify({ skills: [] }));
        return;
      }
      res.writeHead(401, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ error: { code: "invalid_token", message: "The access token is not valid." } }));
    };
    expect(await client().skills("word")).toEqual([]);
    expect(tokenRequests).toEqual([undefined, { fresh: true }]);
  });

  it("gives up after one fresh token is refused too", async () => {
    server.handler = (_req, res) => {
      res.writeHead(401, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ error: { code: "unauthorized", message: "A valid access token is required." } }));
    };
    const problem = await caught(client().skills("word"));
    expect(problem.code).toBe("unauthorized");
    expect(server.requests).toHaveLength(2);
  });

  it("never surfaces a non-JSON error page", async () => {
    server.handler = (_req, res) => {
      res.writeHead(502, { "Content-Type": "text/html" });
      res.end("<html>Bad gateway from a proxy</html>");
    };
    const problem = await caught(client().skills("excel"));
    expect(problem.code).toBe("http_502");
    expect(problem.message).not.toContain("<html>");
  });

  it("reports a connection lost in the middle of a JSON answer as offline", async () => {
    server.handler = (_req, res) => {
      res.writeHead(200, { "Content-Type": "application/json", "Content-Length": "100" });
      res.write('{"skills": [');
      setTimeout(() => res.socket?.destroy(), 10);
    };
    const problem = await caught(client().skills("word"));
    expect(problem).toBeInstanceOf(ApiProblem);
    expect(problem.code).toBe("offline");
  });

  it("reports a server that cannot be reached as offline", async () => {
    await server.stop();
    const problem = await caught(client().skills("word"));
    expect(problem.code).toBe("offline");
  });
});

describe("ApiClient jobs", () => {
  it("creates, reads and cancels a job on the contract's routes", async () => {
    server.handler = (req, res) => {
      res.writeHead(req.url === "/api/jobs" ? 202 : 200, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ id: "j1", skill: "summarize_document", status: "queued", progress: 0 }));
    };
    const api = client();
    const job = await api.createJob("summarize_document", { text: "doc" }, "key-1");
    await api.job(job.id);
    await api.cancelJob(job.id);
    expect(server.requests.map((r) => `${r.method} ${r.url}`)).toEqual(["POST /api/jobs", "GET /api/jobs/j1", "POST /api/jobs/j1/cancel"]);
    expect(JSON.parse(server.requests[0].body)).toEqual({ skill: "summarize_document", input: { text: "doc" }, idempotency_key: "key-1" });
  });
});
