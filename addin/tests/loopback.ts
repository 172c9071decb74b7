// A real HTTP server on 127.0.0.1 for the client tests: each test sets the handler; requests are recorded.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface Recorded {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  body: string;
}

export type Handler = (request: Recorded, response: ServerResponse) => unknown;

export class LoopbackServer {
  readonly requests: Recorded[] = [];
  handler: Handler = (_request, response) => void response.writeHead(404).end();
  private server: Server | null = null;
  /** Closed when a response's connection is closed by the client (used to prove that Stop reaches the server). */
  closedConnections = 0;

  /** Start on a free port and return the base URL. */
  async start(): Promise<string> {
    this.server = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const recorded = { method: req.method ?? "", url: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks).toString() };
      this.requests.push(recorded);
      res.on("close", () => {
        if (!res.writableFinished) this.closedConnections += 1;
      });
      await this.handler(recorded, res);
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  /** Stop the server and drop open connections. */
  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}

/** Write SSE text in the given pieces with a pause between them, so the client really reads several chunks. */
export async function writeInPieces(response: ServerResponse, pieces: string[], pauseMs = 5): Promise<void> {
  response.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-cache" });
  for (const piece of pieces) {
    response.write(piece);
    await new Promise((resolve) => setTimeout(resolve, pauseMs));
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
