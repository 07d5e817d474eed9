/**
 * Least load by the power of two choices (Mitzenmacher; also nginx's
 * `random two least_conn` and undici's balanced pool spirit): sample two
 * distinct eligible workers at random and take the one with the lower
 * score. Comparing two instead of scanning for the global minimum avoids
 * herding: load reports lag, and "everyone to the worker that looked
 * least loaded a moment ago" overloads it. With exactly 2 eligible workers
 * both are always sampled, so this picks the better of the two: intended.
 *
 * Ties go to whichever of the two comes first in a rotating order, so an
 * idle cluster (all scores 0) still spreads connections in turn.
 *
 * Before sampling, idle workers (nothing in flight, nothing unacknowledged)
 * are preferred, and when every worker is busy a connection may wait in the
 * primary's queue for the first one to become idle (join-the-idle-queue):
 * with uneven request costs, this is what keeps fast requests from queueing
 * behind slow ones.
 */
import { BaseScheduler } from './base.js';
import type { Eligible, PickContext, WorkerLoad } from './types.js';
import { effectiveWeight } from './weight.js';

/**
 * An unacknowledged handoff weighs as much as this many connections. A
 * worker whose event loop is blocked cannot acknowledge, so pending
 * handoffs are the earliest sign of a busy worker, well before its next
 * load report; weighing them heavily steers new connections away at once.
 */
export const PENDING_WEIGHT = 4;

/**
 * Event-loop utilisation (0..1) is worth at most this many connections:
 * under one, so it breaks ties between equally connected workers (prefer
 * the one whose loop is less busy) without outweighing a real difference
 * in connections or requests.
 */
export const ELU_WEIGHT = 0.5;

/** Busy: a request in flight (as last reported) or a handoff not yet acknowledged. */
export const isBusy = (w: WorkerLoad): boolean => w.inflight + w.pending > 0;

export function loadScore(w: WorkerLoad, weight: number): number {
  return (w.conns + w.inflight + PENDING_WEIGHT * w.pending + ELU_WEIGHT * w.elu) / weight;
}

export class LeastLoadScheduler extends BaseScheduler {
  readonly name = 'least-load' as const;

  override get holdMs(): number {
    return this.opts.holdMs;
  }

  pick(ctx: PickContext, eligible: Eligible): WorkerLoad | undefined {
    const ws = this.workers;
    // Indices of eligible workers; small (one per worker), rebuilt per pick
    // because eligibility (credit) changes between picks.
    const idx: number[] = [];
    for (let i = 0; i < ws.length; i++) {
      const w = ws[i];
      if (w !== undefined && eligible(w)) idx.push(i);
    }
    if (idx.length === 0) return undefined;
    // Join the idle queue first: an idle worker serves a new connection at once, a busy one
    // queues it behind whatever it is running (maybe a long CPU-bound request).
    const idle = idx.filter((i) => !isBusy(ws[i]!));
    if (idle.length === 0 && ctx.waitedMs !== undefined && ctx.waitedMs < this.opts.holdMs) {
      // Every worker is busy: hold the connection in the primary's queue and give it to the
      // first worker that reports itself idle (the dispatcher retries on each load report),
      // as the kernel's accept queue does for workers sharing a socket. Bounded by holdMs.
      return undefined;
    }
    const pool = idle.length > 0 ? idle : idx;
    let chosen = pool[0] ?? 0;
    if (pool.length > 1) {
      const n = pool.length;
      const a = Math.min(n - 1, Math.floor(this.opts.random() * n));
      let b = Math.min(n - 2, Math.floor(this.opts.random() * (n - 1)));
      if (b >= a) b++; // distinct: draw from the n-1 others
      chosen = this.#better(pool[a] ?? 0, pool[b] ?? 0, ctx.now);
    }
    this.advancePast(chosen);
    return ws[chosen];
  }

  /** Worker index with the lower score; on a tie, the one next in rotation. */
  #better(i: number, j: number, now: number): number {
    const ws = this.workers;
    const wi = ws[i];
    const wj = ws[j];
    if (wi === undefined || wj === undefined) return wi === undefined ? j : i;
    const si = loadScore(wi, effectiveWeight(wi, now, this.opts.slowStartMs));
    const sj = loadScore(wj, effectiveWeight(wj, now, this.opts.slowStartMs));
    if (si !== sj) return si < sj ? i : j;
    return this.rotationRank(i) <= this.rotationRank(j) ? i : j;
  }
}
