// The latest-reload-wins rule of the console's lists (usage, audit log). Unit-tested.

/** Reloads of which only the latest counts: starting one aborts the one before, and an answer is applied only while
 * its request is still the latest (a fetch may have answered before its abort took effect). */
export class LatestRequest {
  private current: AbortController | null = null;

  /** Abort the request in flight, if any, and give the new one its signal. */
  start(): AbortSignal {
    this.current?.abort();
    this.current = new AbortController();
    return this.current.signal;
  }

  /** Whether the request with this signal is still the latest and was not cancelled. */
  isCurrent(signal: AbortSignal): boolean {
    return this.current?.signal === signal && !signal.aborted;
  }

  /** Abort the request in flight; no answer counts after this. */
  cancel(): void {
    this.current?.abort();
    this.current = null;
  }
}
