/**
 * Per-request HTTP figures, measured in the worker around each request
 * (from the server's 'request' event to the response's 'close') and folded
 * here: counts per status class and a few duration buckets. They travel in
 * the batched load reports as deltas (take()), never one message per
 * request (DESIGN.md, "One picture of the cluster, many views").
 *
 * The per-request cost is a performance.now() at each end, one bucket walk
 * and a few increments into arrays allocated once.
 */
import type http from 'node:http';
import { performance } from 'node:perf_hooks';
import type { HttpDelta } from '../ipc/messages.js';

/**
 * Upper bounds of the duration buckets, seconds (Prometheus' defaults with
 * 2.5 and 10 s kept, few enough that a scrape stays small, and three below
 * 5 ms: a local app answers in under a millisecond, and the dashboard's
 * quantiles are read from these buckets). The last count is everything slower (+Inf).
 */
export const DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

/** Which of the buckets bounded by `bounds` takes `v` (bounds.length: +Inf). */
export function bucketIndex(bounds: readonly number[], v: number): number {
  let i = 0;
  while (i < bounds.length && v > bounds[i]!) i++;
  return i;
}

/** Status classes 1xx..5xx, in that order. */
export const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;

export class HttpStats {
  readonly #codes = [0, 0, 0, 0, 0];
  /** Per bucket, not cumulative: index i counts durations in (bound[i-1], bound[i]]; the last one is +Inf. */
  readonly #buckets: number[] = new Array<number>(DURATION_BUCKETS.length + 1).fill(0);
  #sum = 0;
  #count = 0;

  /**
   * A response that has closed, started at `t0` (performance.now()). Only
   * responses sent in full count: one the client abandoned has no status
   * it was given (statusCode would read the default 200).
   */
  end(t0: number, res: http.ServerResponse, now = performance.now()): void {
    if (!res.writableFinished) return;
    const s = (now - t0) / 1000;
    this.#buckets[bucketIndex(DURATION_BUCKETS, s)]!++;
    this.#sum += s;
    this.#count++;
    const c = Math.floor(res.statusCode / 100) - 1;
    if (c >= 0 && c < 5) this.#codes[c]!++;
  }

  /** What was counted since the last call, or undefined when nothing was (the report then carries no `http`). */
  take(): HttpDelta | undefined {
    if (this.#count === 0) return undefined;
    const delta: HttpDelta = { codes: [...this.#codes], buckets: [...this.#buckets], sum: this.#sum };
    this.#codes.fill(0);
    this.#buckets.fill(0);
    this.#sum = 0;
    this.#count = 0;
    return delta;
  }
}
