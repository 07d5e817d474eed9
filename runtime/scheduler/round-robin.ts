/**
 * Plain rotation, as node's cluster round_robin_handle: each pick goes to
 * the next worker in order. An ineligible worker (out of credit) is passed
 * over and the turn goes to the next eligible one; the cursor then sits
 * after the worker picked, so the others keep alternating evenly among
 * themselves and the skipped worker takes its normal place in the order as
 * soon as it has credit again (no catch-up burst, no lost position).
 */
import { BaseScheduler } from './base.js';
import type { Eligible, PickContext, WorkerLoad } from './types.js';

export class RoundRobinScheduler extends BaseScheduler {
  readonly name = 'round-robin' as const;

  pick(_ctx: PickContext, eligible: Eligible): WorkerLoad | undefined {
    return this.rotate(eligible);
  }
}
