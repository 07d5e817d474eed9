/**
 * The last N latency samples in a ring, for percentiles on demand (`shoal
 * status`). Recording is one store into a typed array: it runs on every
 * replicated change, the percentiles only when someone asks.
 */
export const DEFAULT_SAMPLES = 1024;

export class Samples {
  readonly #ring: Float64Array;
  #next = 0;
  #count = 0;

  constructor(size = DEFAULT_SAMPLES) {
    this.#ring = new Float64Array(size);
  }

  get count(): number { return this.#count; }

  record(ms: number): void {
    // A clock step between two processes can make a delay negative: it was ~0.
    this.#ring[this.#next] = ms > 0 ? ms : 0;
    this.#next = (this.#next + 1) % this.#ring.length;
    if (this.#count < this.#ring.length) this.#count++;
  }

  /** The q-quantile (0..1, nearest rank) of the samples held, rounded to µs; null when there are none. */
  quantile(q: number): number | null {
    if (this.#count === 0) return null;
    const sorted = this.#ring.slice(0, this.#count).sort();
    const i = Math.min(this.#count - 1, Math.max(0, Math.ceil(q * this.#count) - 1));
    return Math.round(sorted[i]! * 1000) / 1000;
  }
}

/** Now in ms since the epoch with sub-ms precision; comparable between processes of one host. */
export const preciseNow = (): number => performance.timeOrigin + performance.now();
