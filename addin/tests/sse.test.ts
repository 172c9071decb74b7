import { describe, expect, it } from "vitest";
import { readSseStream, SseParser, type SseEvent } from "../src/api/sse";

const STREAM =
  'event: meta\ndata: {"run_id":"r1"}\n\n' +
  ": keep-alive\n\n" +
  'event: delta\r\ndata: {"text":"Hé"}\r\n\r\n' +
  'event: delta\rdata: {"text":"llo\\nworld"}\r\r' +
  "event: done\ndata: line one\ndata: line two\n\n";

const EXPECTED: SseEvent[] = [
  { event: "meta", data: '{"run_id":"r1"}' },
  { event: "delta", data: '{"text":"Hé"}' },
  { event: "delta", data: '{"text":"llo\\nworld"}' },
  { event: "done", data: "line one\nline two" },
];

function parseInChunks(text: string, cuts: number[]): SseEvent[] {
  const parser = new SseParser();
  const events: SseEvent[] = [];
  let start = 0;
  for (const cut of [...cuts, text.length]) {
    events.push(...parser.push(text.slice(start, cut)));
    start = cut;
  }
  return events;
}

function streamOf(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      chunks.forEach((chunk) => controller.enqueue(chunk));
      controller.close();
    },
  });
}

async function collect(stream: ReadableStream<Uint8Array>): Promise<SseEvent[]> {
  const events: SseEvent[] = [];
  for await (const event of readSseStream(stream)) events.push(event);
  return events;
}

describe("SseParser", () => {
  it("parses the whole stream in one chunk", () => {
    expect(parseInChunks(STREAM, [])).toEqual(EXPECTED);
  });

  it("gives the same events whatever single point the stream is cut at", () => {
    for (let cut = 1; cut < STREAM.length; cut++) {
      expect(parseInChunks(STREAM, [cut]), `cut at ${cut}`).toEqual(EXPECTED);
    }
  });

  it("gives the same events fed one character at a time", () => {
    expect(parseInChunks(STREAM, [...STREAM].map((_, i) => i + 1).slice(0, -1))).toEqual(EXPECTED);
  });

  it("does not emit an event before its blank line", () => {
    const parser = new SseParser();
    expect(parser.push('event: delta\ndata: {"text":"a"}\n')).toEqual([]);
    expect(parser.push("\n")).toEqual([{ event: "delta", data: '{"text":"a"}' }]);
  });

  it("drops an unterminated event at the end of the stream", () => {
    const parser = new SseParser();
    parser.push("event: delta\ndata: partial");
    expect(parser.finish()).toEqual([]);
  });
});

describe("readSseStream", () => {
  it("decodes a UTF-8 character split across two network chunks", async () => {
    const bytes = new TextEncoder().encode(STREAM);
    const splitAt = bytes.indexOf(0xc3) + 1; // inside the two bytes of "é"
    const events = await collect(streamOf([bytes.slice(0, splitAt), bytes.slice(splitAt)]));
    expect(events).toEqual(EXPECTED);
  });

  it("handles a stream of one-byte chunks", async () => {
    const bytes = new TextEncoder().encode(STREAM);
    const events = await collect(streamOf([...bytes].map((b) => new Uint8Array([b]))));
    expect(events).toEqual(EXPECTED);
  });
});
