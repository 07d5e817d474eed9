/**
 * Least connections (the default), as HAProxy's `leastconn`: the worker
 * with the fewest open connections per unit of effective weight wins.
 * Pending handoffs count as connections: they are on their way to that
 * worker already. Slow start (weight.ts) keeps a just-started worker with
 * 0 connections from taking every new connection.
 *
 * Ties are broken by round robin (the scan starts at a rotating index), as
 * HAProxy does among servers with the same key: with equal loads, a fixed
 * tie-break would send short bursts all to the first worker.
 */
import { BaseScheduler } from './base.js';
import type { Eligible, PickContext, WorkerLoad } from './types.js';
import { effectiveWeight } from './weight.js';

export class LeastConnScheduler extends BaseScheduler {
  readonly name = 'least-conn' as const;

  pick(ctx: PickContext, eligible: Eligible): WorkerLoad | undefined {
    const ws = this.workers;
    let best: WorkerLoad | undefined;
    let bestIndex = -1;
    let bestScore = Infinity;
    let bestRank = Infinity;
    for (let i = 0; i < ws.length; i++) {
      const w = ws[i];
      if (w === undefined || !eligible(w)) continue;
      const score = (w.conns + w.pending) / effectiveWeight(w, ctx.now, this.opts.slowStartMs);
      const rank = this.rotationRank(i);
      if (score < bestScore || (score === bestScore && rank < bestRank)) {
        best = w;
        bestIndex = i;
        bestScore = score;
        bestRank = rank;
      }
    }
    if (best !== undefined) this.advancePast(bestIndex);
    return best;
  }
}
