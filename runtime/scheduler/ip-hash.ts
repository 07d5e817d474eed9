/**
 * Client affinity by consistent hashing (as nginx's `hash ... consistent`,
 * ketama-style): each worker owns VNODES_PER_WEIGHT points per unit of
 * weight on a 32-bit ring; a client goes to the owner of the first point at
 * or after the hash of its address. Removing a worker moves only the
 * clients that were on it (about 1/N of them) to the next points along the
 * ring; everyone else keeps their worker, and adding it back restores the
 * old mapping, since points depend only on worker id and weight.
 *
 * The ring uses the configured weight, not the slow-start one: a ramping
 * weight would reshuffle clients on every pick. Weight is read when the
 * worker is added; re-add it to apply a new weight.
 *
 * Affinity yields to credit momentarily: if the client's worker is not
 * eligible right now, we walk the ring to the next eligible owner (the
 * same worker its clients would move to if it were removed), and the
 * client is back on its own worker as soon as that one has credit again.
 * A client with no known address is served by plain rotation.
 */
import { hash32, normaliseAddress } from './address.js';
import { BaseScheduler } from './base.js';
import type { Eligible, PickContext, WorkerLoad } from './types.js';

/** Ring points per unit of weight (nginx and ketama use 160): more points, evener arcs. */
export const VNODES_PER_WEIGHT = 160;

export class IpHashScheduler extends BaseScheduler {
  readonly name = 'ip-hash' as const;
  /** Sorted ring points, and the owner of each point (same index). */
  #points = new Uint32Array(0);
  #owners: WorkerLoad[] = [];

  protected override onAdd(): void {
    this.#rebuild();
  }

  protected override onRemove(): void {
    this.#rebuild();
  }

  pick(ctx: PickContext, eligible: Eligible): WorkerLoad | undefined {
    const addr = ctx.remoteAddress;
    if (addr === undefined || addr === '' || this.#owners.length === 0) return this.rotate(eligible);
    const len = this.#owners.length;
    const start = this.#lowerBound(hash32(normaliseAddress(addr))) % len;
    let refused: Set<number> | undefined;
    for (let k = 0; k < len; k++) {
      const w = this.#owners[(start + k) % len];
      if (w === undefined || refused?.has(w.id)) continue;
      if (eligible(w)) return w;
      refused ??= new Set();
      refused.add(w.id);
      if (refused.size === this.size) return undefined;
    }
    return undefined;
  }

  /** Index of the first point >= h (== length when h is past the last point: wraps to 0). */
  #lowerBound(h: number): number {
    const pts = this.#points;
    let lo = 0;
    let hi = pts.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((pts[mid] ?? 0) < h) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  #rebuild(): void {
    const entries: Array<{ p: number; w: WorkerLoad }> = [];
    for (const w of this.workers) {
      const n = Math.max(1, Math.round(VNODES_PER_WEIGHT * w.weight));
      for (let i = 0; i < n; i++) entries.push({ p: hash32(`${w.id}#${i}`), w });
    }
    // Ties between two workers' points are ordered by id, so the ring does
    // not depend on the order workers were added in.
    entries.sort((a, b) => a.p - b.p || a.w.id - b.w.id);
    this.#points = Uint32Array.from(entries, (e) => e.p);
    this.#owners = entries.map((e) => e.w);
  }
}
