/**
 * Smooth weighted round robin, exactly as nginx's ngx_http_upstream_rr
 * (get_peer): every eligible worker's `current` grows by its effective
 * weight, the largest `current` wins, and the winner pays back the total.
 * Unlike "a a a a a b c", this interleaves: weights 5,1,1 give
 * a a b a c a a, so no worker gets a burst of consecutive connections.
 *
 * Effective weights include slow start (see weight.ts), so a new worker
 * joins the interleaving with a small share that grows to its full share.
 * As in nginx, an ineligible worker neither accumulates nor pays that
 * round: it is simply out of the race until it has credit again.
 */
import { BaseScheduler } from './base.js';
import type { Eligible, PickContext, WorkerLoad } from './types.js';
import { effectiveWeight } from './weight.js';

export class WeightedRoundRobinScheduler extends BaseScheduler {
  readonly name = 'weighted-round-robin' as const;
  /** nginx's peer->current_weight, by worker id. */
  readonly #current = new Map<number, number>();

  protected override onAdd(w: WorkerLoad): void {
    // A (re)joining worker starts level, as nginx does for a new peer.
    this.#current.set(w.id, 0);
  }

  protected override onRemove(w: WorkerLoad): void {
    this.#current.delete(w.id);
  }

  pick(ctx: PickContext, eligible: Eligible): WorkerLoad | undefined {
    let best: WorkerLoad | undefined;
    let bestCurrent = -Infinity;
    let total = 0;
    for (const w of this.workers) {
      if (!eligible(w)) continue;
      const ew = effectiveWeight(w, ctx.now, this.opts.slowStartMs);
      const cur = (this.#current.get(w.id) ?? 0) + ew;
      this.#current.set(w.id, cur);
      total += ew;
      // Strictly greater: among equals the first in order wins, as in nginx.
      if (cur > bestCurrent) {
        best = w;
        bestCurrent = cur;
      }
    }
    if (best !== undefined) this.#current.set(best.id, bestCurrent - total);
    return best;
  }
}
