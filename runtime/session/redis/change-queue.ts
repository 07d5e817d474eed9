/**
 * The changes a host has for Redis and not yet written: joined per session,
 * bounded by a count of sessions and a size, with the publishers that wait
 * for them to be written. While Redis is away this is the outage queue.
 *
 *   add() ──> queued ──take()──> in flight ──settle(ok)──> gone, waiters released
 *                ^                      │
 *                └────── settle(failed): joined back (before what came meanwhile)
 *
 * No I/O here: the link decides when to take a batch and writes it.
 */
import type { SessionChanges } from '../../ipc/messages.js';
import { join, type Delta } from '../model.js';

export interface QueueBounds {
  /** Most sessions queued. */
  readonly queueMax: number;
  /** Most bytes queued (approximately: the JSON size of the deltas). */
  readonly queueMaxBytes: number;
}

export class ChangeQueue {
  readonly #bounds: QueueBounds;
  #queued = new Map<string, Delta>();
  #bytes = 0;
  /** The batch being written now (its changes are not in Redis for sure yet). */
  #inflight: Map<string, Delta> | undefined;
  /** Publishers waiting for what is queued to be written (or given up on). */
  #waiting: (() => void)[] = [];

  constructor(bounds: QueueBounds) {
    this.#bounds = bounds;
  }

  get size(): number { return this.#queued.size; }

  /** Sessions with changes not in Redis for sure: queued, or in the batch being written (what status shows). */
  get depth(): number {
    let n = this.#queued.size;
    if (this.#inflight) for (const id of this.#inflight.keys()) if (!this.#queued.has(id)) n++;
    return n;
  }
  get bytes(): number { return this.#bytes; }

  /** Queues changes; false when that takes the queue past a bound (the caller then drops it with clear()). */
  add(changes: SessionChanges): boolean {
    for (const [id, d] of changes) {
      const prev = this.#queued.get(id);
      this.#queued.set(id, prev === undefined ? d : join(prev, d));
      this.#bytes += approxBytes(d);
    }
    return this.#queued.size <= this.#bounds.queueMax && this.#bytes <= this.#bounds.queueMaxBytes;
  }

  /** Resolves once what is queued now is written or given up on (release()), or after `ms`, whichever is first. */
  wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.#waiting.push(() => { clearTimeout(timer); resolve(); });
    });
  }

  /** Drops everything queued and lets every waiter go (past a bound; what was dropped must come back another way). */
  clear(): void {
    this.#queued.clear();
    this.#bytes = 0;
    this.release();
  }

  /** Lets every waiter go now (Redis went away: responses must not wait for it). */
  release(): void {
    for (const w of this.#waiting.splice(0)) w();
  }

  /** The queue as a batch to write, now in flight; settle() it when the write is done. */
  take(): { readonly batch: Map<string, Delta>; settle: (ok: boolean) => void } {
    const batch = this.#queued;
    const waiters = this.#waiting.splice(0);
    this.#queued = new Map();
    this.#bytes = 0;
    this.#inflight = batch;
    return {
      batch,
      settle: (ok) => {
        if (!ok) {
          for (const [id, d] of batch) {
            const later = this.#queued.get(id);
            this.#queued.set(id, later === undefined ? d : join(d, later));
            this.#bytes += approxBytes(d);
          }
        }
        this.#inflight = undefined;
        // Written, or queued again for when Redis is back: either way the responses go out now.
        for (const w of waiters) w();
      },
    };
  }

  /** This host's changes to `id` that Redis may not have yet (queued or being written). */
  pending(id: string): Delta | undefined {
    const a = this.#inflight?.get(id);
    const b = this.#queued.get(id);
    return a === undefined ? b : b === undefined ? a : join(a, b);
  }
}

const approxBytes = (d: Delta): number => JSON.stringify(d).length;
