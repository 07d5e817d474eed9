/**
 * The accept gate of kernel accept mode: pure arithmetic, shared by the
 * primary (which computes the floor from load reports) and each worker
 * (which compares its own, always fresh, load with that floor).
 *
 *   worker i accepts from the shared socket  <=>  key(i) <= floor + slack
 *   floor = min over accepting workers of key(j)
 *
 * so the least loaded worker always accepts, and one over its share sits
 * out until it is back under (the kernel queues the connection for the
 * others meanwhile). The key is the load a worker would have with one more
 * connection, per unit of (slow-start) weight, as HAProxy's leastconn
 * orders servers by (conns + 1) / weight: a worker still ramping up with
 * no connection does not look infinitely attractive.
 *
 * least-load's key is its load score (connections, requests in flight,
 * event-loop utilisation): a worker busy with requests sits out while one
 * with the same connections and nothing in flight takes the new ones
 * (join-the-idle-queue), and idle workers still share connections evenly.
 */
import { loadScore } from './least-load.js';
import type { WorkerLoad } from './types.js';

export type GateBalancer = 'least-conn' | 'least-load';
export const GATE_BALANCERS: readonly GateBalancer[] = ['least-conn', 'least-load'];

export const isGateBalancer = (b: string): b is GateBalancer => (GATE_BALANCERS as readonly string[]).includes(b);

export type GateLoad = Pick<WorkerLoad, 'conns' | 'inflight' | 'elu' | 'pending'>;

/** The load key of one worker at effective weight `weight` (> 0). */
export function acceptKey(balancer: GateBalancer, l: GateLoad, weight: number): number {
  return balancer === 'least-conn' ? (l.conns + l.pending + 1) / weight : loadScore(l as WorkerLoad, weight) + 1 / weight;
}

/** Whether a worker with load `own` may accept now, given the floor it last heard of. */
export function mayAccept(balancer: GateBalancer, own: GateLoad, weight: number, floor: number, slack: number): boolean {
  return acceptKey(balancer, own, weight) <= floor + slack;
}

/**
 * Floors are sent rounded to this many decimals, and a change smaller than
 * that is no change: a ramping worker's key, and least-load's event-loop
 * term, move a little on every report, which is not worth a message to
 * every worker. The rounding (at most 0.05) stays well inside any slack.
 */
export const FLOOR_DECIMALS = 1;

export const roundFloor = (f: number): number => Math.round(f * 10 ** FLOOR_DECIMALS) / 10 ** FLOOR_DECIMALS;
