/**
 * Slow start, as HAProxy's `slowstart`: a worker that just became routable
 * has 0 connections, so under least-conn (or least-load) its score is 0 and
 * it would take every new connection until it caught up with the others,
 * right while its code is still cold (JIT, caches, pools not yet warm).
 * Ramping its effective weight from a floor to the full weight makes it
 * take a small share at first and its full share after `slowStartMs`.
 */
import type { WorkerLoad } from './types.js';

/**
 * Share of its weight a worker gets at the instant it becomes routable.
 * Not 0: a zero weight would divide by zero in the score-based strategies,
 * and a worker that gets nothing at all never warms up.
 */
export const SLOW_START_FLOOR = 0.1;

/** The weight a strategy should use for `w` at time `now` (ms, same clock as w.readyAt). */
export function effectiveWeight(w: Pick<WorkerLoad, 'weight' | 'readyAt'>, now: number, slowStartMs: number): number {
  if (!(slowStartMs > 0)) return w.weight;
  const elapsed = now - w.readyAt;
  if (elapsed >= slowStartMs) return w.weight;
  // A clock that reads earlier than readyAt (injected times in tests, or a
  // worker marked ready "in the future") is treated as the very start.
  const ramp = elapsed <= 0 ? 0 : elapsed / slowStartMs;
  return w.weight * (SLOW_START_FLOOR + (1 - SLOW_START_FLOOR) * ramp);
}
