/**
 * Balancing strategies: pure objects that pick a worker for each new
 * connection. createScheduler() is the only constructor the primary needs.
 */
import { ShoalError } from '../errors.js';
import { IpHashScheduler } from './ip-hash.js';
import { LeastConnScheduler } from './least-conn.js';
import { LeastLoadScheduler } from './least-load.js';
import { RoundRobinScheduler } from './round-robin.js';
import { BALANCERS, type BalancerName, type Scheduler, type SchedulerOptions } from './types.js';
import { WeightedRoundRobinScheduler } from './weighted-round-robin.js';

export type { BalancerName, Eligible, PickContext, Scheduler, SchedulerOptions, WorkerLoad } from './types.js';
export { BALANCERS, DEFAULT_BALANCER } from './types.js';
export { effectiveWeight, SLOW_START_FLOOR } from './weight.js';
export { ELU_WEIGHT, PENDING_WEIGHT } from './least-load.js';
export { VNODES_PER_WEIGHT } from './ip-hash.js';
export { normaliseAddress } from './address.js';

/** Default slow-start ramp: long enough to warm a JIT, short enough not to matter on deploys. */
/**
 * least-load holds a new connection in the primary's queue for at most this
 * long while every worker is busy, to give it to the first one that becomes
 * idle rather than queue it behind a long request.
 */
export const DEFAULT_HOLD_MS = 100;

export const DEFAULT_SLOW_START_MS = 2000;

export function isBalancerName(s: string): s is BalancerName {
  return (BALANCERS as readonly string[]).includes(s);
}

export function createScheduler(name: BalancerName, opts: Partial<SchedulerOptions> = {}): Scheduler {
  const slowStartMs = opts.slowStartMs ?? DEFAULT_SLOW_START_MS;
  if (!Number.isFinite(slowStartMs) || slowStartMs < 0) {
    throw new RangeError(`slowStartMs must be a finite number >= 0, got ${slowStartMs}`);
  }
  const o: SchedulerOptions = { slowStartMs, random: opts.random ?? Math.random, holdMs: opts.holdMs ?? DEFAULT_HOLD_MS };
  switch (name) {
    case 'least-conn':
      return new LeastConnScheduler(o);
    case 'round-robin':
      return new RoundRobinScheduler(o);
    case 'weighted-round-robin':
      return new WeightedRoundRobinScheduler(o);
    case 'ip-hash':
      return new IpHashScheduler(o);
    case 'least-load':
      return new LeastLoadScheduler(o);
    default:
      // Unreachable for typed callers; guards names that came from config or JS.
      throw new ShoalError('SHOAL_ERR_UNKNOWN_BALANCER', String(name satisfies never), BALANCERS.join(', '));
  }
}
