/**
 * What the host answers HAProxy's agent-check (agent/server.ts), decided
 * from the cluster's state alone, as /readyz is (primary/readiness.ts):
 *
 *   not ready (stopping, shutdown delay, no worker ready)  ->  "drain"
 *   otherwise                                              ->  "up ready N%"
 *
 * `up` and `ready` together: after a drain (a host that stopped and came
 * back) HAProxy keeps the server in DRAIN until an agent says `ready`.
 *
 * N is the host's headroom, a percentage of the weight HAProxy has for the
 * server:
 *
 *   capacity = sum of the ready workers' slot weights / sum of all slots' weights
 *   busy(w)  = max(elu(w), min(1, inflight(w) / INFLIGHT_FULL))
 *   idle     = 1 - mean busy(w) over the ready workers
 *   N        = clamp(round(100 * capacity * idle), 1, 100)
 *
 * A host whose workers' event loops are saturated, or that holds many
 * requests in flight per worker, answers less than an idle one; one with
 * workers down answers in proportion to those up. Never 0% while up:
 * HAProxy treats a weight of 0 as drain.
 */
import type { ClusterState, WorkerRow } from '../primary/cluster-state.js';
import { readiness } from '../primary/readiness.js';

/** Requests in flight in one worker at which it counts as fully busy, however idle its event loop (waiting on I/O). */
export const INFLIGHT_FULL = 64;
export const MIN_WEIGHT_PERCENT = 1;
export const MAX_WEIGHT_PERCENT = 100;

const inRotation = (w: WorkerRow): boolean => w.state === 'ready' && w.hungMs === undefined;
const busy = (w: WorkerRow): number => Math.min(1, Math.max(w.elu, w.inflight / INFLIGHT_FULL));

/** The weight percentage for a ready host (see the formula above). */
export function headroomPercent(workers: readonly WorkerRow[]): number {
  const ready = workers.filter(inRotation);
  const total = workers.reduce((n, w) => n + w.weight, 0);
  if (ready.length === 0 || total === 0) return MIN_WEIGHT_PERCENT;
  const capacity = ready.reduce((n, w) => n + w.weight, 0) / total;
  const idle = 1 - ready.reduce((n, w) => n + busy(w), 0) / ready.length;
  return Math.min(MAX_WEIGHT_PERCENT, Math.max(MIN_WEIGHT_PERCENT, Math.round(100 * capacity * idle)));
}

/** The agent's one line, newline included. */
export function agentAnswer(s: ClusterState): string {
  if (!readiness(s).ready) return 'drain\n';
  return `up ready ${headroomPercent(s.workers)}%\n`;
}
