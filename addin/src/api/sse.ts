// An incremental parser of Server-Sent Events: bytes arrive in arbitrary chunks (a chunk may end mid-line, mid-field or
// even mid-UTF-8 character), so it keeps the unfinished tail and only emits an event at its blank line.

export interface SseEvent {
  event: string;
  data: string;
  id?: string;
}

/** Feed decoded text with push(); complete events come back in order. */
export class SseParser {
  private buffer = "";
  private eventName = "";
  private dataLines: string[] = [];
  private lastId: string | undefined;

  /** Add text and return every event completed by it. */
  push(text: string): SseEvent[] {
    this.buffer += text;
    const events: SseEvent[] = [];
    // A line ends at \n, \r\n or \r; a trailing \r may be the first half of \r\n, so wait for the next chunk.
    for (;;) {
      const match = /\r\n|\r|\n/.exec(this.buffer);
      if (!match) break;
      if (match[0] === "\r" && match.index === this.buffer.length - 1) break;
      const line = this.buffer.slice(0, match.index);
      this.buffer = this.buffer.slice(match.index + match[0].length);
      const event = this.takeLine(line);
      if (event) events.push(event);
    }
    return events;
  }

  /** At the end of the stream: an unterminated event is dropped, as the SSE specification says. */
  finish(): SseEvent[] {
    this.buffer = "";
    this.eventName = "";
    this.dataLines = [];
    return [];
  }

  private takeLine(line: string): SseEvent | null {
    if (line === "") return this.dispatch();
    if (line.startsWith(":")) return null; // a comment, used as keep-alive
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "event") this.eventName = value;
    else if (field === "data") this.dataLines.push(value);
    else if (field === "id") this.lastId = value;
    return null;
  }

  private dispatch(): SseEvent | null {
    if (this.dataLines.length === 0 && this.eventName === "") return null;
    const event: SseEvent = { event: this.eventName || "message", data: this.dataLines.join("\n") };
    if (this.lastId !== undefined) event.id = this.lastId;
    this.eventName = "";
    this.dataLines = [];
    return event;
  }
}

/** Read a byte stream to its end and yield its events; decoding is streaming so split characters survive. */
export async function* readSseStream(body: ReadableStream<Uint8Array>, signal?: AbortSignal): AsyncGenerator<SseEvent> {
  const reader = body.getReader();
  const decoder = new TextDecoder("utf-8");
  const parser = new SseParser();
  const onAbort = () => void reader.cancel().catch(() => undefined);
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    for (;;) {
      if (signal?.aborted) throw abortError();
      const { done, value } = await reader.read();
      if (signal?.aborted) throw abortError();
      if (done) {
        yield* parser.push(decoder.decode());
        yield* parser.finish();
        return;
      }
      yield* parser.push(decoder.decode(value, { stream: true }));
    }
  } finally {
    signal?.removeEventListener("abort", onAbort);
    reader.releaseLock();
  }
}

/** The error fetch() throws on abort, so callers check one name. */
export function abortError(): DOMException {
  return new DOMException("The operation was aborted.", "AbortError");
}
