/**
 * Running totals the primary keeps for the metrics views: they only grow,
 * so no counter a view shows ever goes backwards, whatever happens to the
 * workers that fed them.
 *
 * HTTP figures are kept per slot (the place 1..N a worker fills), not per
 * worker process: a worker that exits or is replaced leaves its counts in
 * its slot's total, and the replacement adds to it. The label set stays as
 * small as the cluster (a reload does not add N new series), and a slot
 * that is scaled away keeps its last figures (scaled back, it goes on from them).
 */
import type { HttpDelta } from '../ipc/messages.js';
import { bucketIndex, DURATION_BUCKETS } from '../worker/http-stats.js';

/** A histogram's figures: per-bucket counts (not cumulative; the last is +Inf), sum and count. */
export interface BucketFigures {
  readonly bounds: readonly number[];
  readonly counts: readonly number[];
  readonly sum: number;
  readonly count: number;
}

/** Observations folded into fixed buckets (reload durations, added to one at a time). */
export class Buckets {
  readonly #bounds: readonly number[];
  readonly #counts: number[];
  #sum = 0;
  #count = 0;

  constructor(bounds: readonly number[]) {
    this.#bounds = bounds;
    this.#counts = new Array<number>(bounds.length + 1).fill(0);
  }

  observe(v: number): void {
    this.#counts[bucketIndex(this.#bounds, v)]!++;
    this.#sum += v;
    this.#count++;
  }

  /** Adds counts already bucketed the same way (a worker's delta). */
  addCounts(counts: readonly number[], sum: number): void {
    for (let i = 0; i < this.#counts.length; i++) {
      const n = counts[i] ?? 0;
      this.#counts[i]! += n;
      this.#count += n;
    }
    this.#sum += sum;
  }

  figures(): BucketFigures {
    return { bounds: this.#bounds, counts: [...this.#counts], sum: this.#sum, count: this.#count };
  }
}

/** The HTTP totals as a view reads them. */
export interface HttpFigures {
  /** Slot number -> responses per status class 1xx..5xx, since the cluster started. */
  readonly bySlot: Readonly<Record<string, readonly number[]>>;
  readonly duration: BucketFigures;
}

export class HttpTotals {
  readonly #bySlot = new Map<number, number[]>();
  readonly #duration = new Buckets(DURATION_BUCKETS);
  /** Durations per slot too: the dashboard's per-worker latency quantiles are read from their deltas. */
  readonly #durationBySlot = new Map<number, Buckets>();

  /** One load report's figures from the worker in `slot`. */
  add(slot: number, d: HttpDelta): void {
    let codes = this.#bySlot.get(slot);
    if (!codes) { codes = [0, 0, 0, 0, 0]; this.#bySlot.set(slot, codes); }
    for (let i = 0; i < 5; i++) codes[i]! += d.codes[i] ?? 0;
    this.#duration.addCounts(d.buckets, d.sum);
    let slotDuration = this.#durationBySlot.get(slot);
    if (!slotDuration) { slotDuration = new Buckets(DURATION_BUCKETS); this.#durationBySlot.set(slot, slotDuration); }
    slotDuration.addCounts(d.buckets, d.sum);
  }

  /** Slot number -> its duration bucket counts since the cluster started (not cumulative across buckets). */
  durationsBySlot(): ReadonlyMap<number, readonly number[]> {
    return new Map([...this.#durationBySlot].map(([n, b]) => [n, b.figures().counts]));
  }

  figures(): HttpFigures {
    const bySlot: Record<string, number[]> = {};
    for (const [n, codes] of [...this.#bySlot].sort((a, b) => a[0] - b[0])) bySlot[String(n)] = [...codes];
    return { bySlot, duration: this.#duration.figures() };
  }
}
