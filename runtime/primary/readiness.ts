/**
 * Whether the cluster should receive traffic, decided from the cluster's
 * state alone, so every view that answers the question (/readyz today; a
 * load balancer's agent, a shutdown delay that fails readiness first) gives
 * the same answer for the same reason.
 *
 * Ready: the cluster is not stopping and at least one worker is ready and in
 * rotation (a worker that stopped answering is out of rotation).
 */
import type { ClusterState, WorkerRow } from './cluster-state.js';

export interface Readiness {
  readonly ready: boolean;
  /** One line for people: "ready: 2 of 2 workers ready", "not ready: stopping", … */
  readonly reason: string;
}

const inRotation = (w: WorkerRow): boolean => w.state === 'ready' && w.hungMs === undefined;

/** Why a worker that is not in rotation is not, e.g. "slot 1 failed: exit code 1". */
function why(w: WorkerRow): string {
  if (w.state === 'ready') return `slot ${w.slot} not responding for ${w.hungMs ?? 0} ms`;
  return `slot ${w.slot} ${w.state}${w.error ? `: ${w.error}` : ''}`;
}

export function readiness(s: ClusterState): Readiness {
  const inMs = s.primary.stoppingInMs;
  if (inMs !== undefined) return { ready: false, reason: `not ready: stopping in ${Math.ceil(inMs / 1000)}s (shutdown delay; still serving)` };
  if (s.primary.stopping) return { ready: false, reason: 'not ready: stopping' };
  const total = s.workers.length;
  const ready = s.workers.filter(inRotation).length;
  const others = s.workers.filter((w) => !inRotation(w)).map(why);
  const detail = others.length > 0 ? ` (${others.join('; ')})` : '';
  if (ready === 0) return { ready: false, reason: `not ready: no worker ready${detail}` };
  return { ready: true, reason: `ready: ${ready} of ${total} worker${total === 1 ? '' : 's'} ready${detail}` };
}
