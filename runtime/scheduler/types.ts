/**
 * The contract every balancing strategy follows (modelled on node's
 * lib/internal/cluster round_robin_handle and undici's balanced pool):
 * a scheduler holds the routable workers and picks one. It never does I/O;
 * the numbers it reads are kept up to date by the primary's dispatcher.
 */

/** What the dispatcher knows about one routable worker. Mutated in place by the dispatcher. */
export interface WorkerLoad {
  /** Stable worker id (unique for the life of the primary). */
  readonly id: number;
  /** Configured weight, > 0. Default 1. */
  weight: number;
  /** Open connections: handed over by the primary minus closes reported by the worker. */
  conns: number;
  /** Handoffs sent but not yet acknowledged by the worker (bounded by the credit window). */
  pending: number;
  /** In-flight HTTP requests, as last reported by the worker. */
  inflight: number;
  /** Event-loop utilisation over the last report interval, 0..1. */
  elu: number;
  /** When the worker became routable (ms, same clock as PickContext.now); drives slow start. */
  readyAt: number;
}

export interface PickContext {
  /** Client address as the socket reports it (IPv4, IPv6 or IPv4-mapped IPv6). */
  readonly remoteAddress?: string | undefined;
  /** Current time in ms (injected so strategies stay pure and testable). */
  readonly now: number;
  /** How long the connection being placed has waited in the primary's queue, ms. */
  readonly waitedMs?: number | undefined;
}

/** Returns true when the worker can take a connection right now (it has credit). */
export type Eligible = (w: WorkerLoad) => boolean;

export interface Scheduler {
  readonly name: BalancerName;
  add(w: WorkerLoad): void;
  remove(id: number): void;
  /** Picks a worker among those for which `eligible` holds, or undefined if none does. */
  pick(ctx: PickContext, eligible: Eligible): WorkerLoad | undefined;
  /** Routable workers, in insertion order. */
  readonly size: number;
  /**
   * How long this strategy may decline to pick (return undefined although a
   * worker is eligible) to hold a connection for a better moment; 0 when it
   * never does. The dispatcher retries when a worker's load changes, and at
   * the latest once the head connection has waited this long.
   */
  readonly holdMs: number;
}

export interface SchedulerOptions {
  /**
   * Slow start: a worker's effective weight ramps linearly from
   * SLOW_START_FLOOR to its full weight over this many ms after it becomes
   * routable, so a cold worker is not flooded by least-conn/least-load
   * (HAProxy's `slowstart`). 0 disables it.
   */
  readonly slowStartMs: number;
  /** Random source in [0,1) for least-load's power of two choices; injected for tests. */
  readonly random: () => number;
  /** least-load: how long to hold a new connection while every worker is busy (see least-load.ts). */
  readonly holdMs: number;
}

export const BALANCERS = ['least-conn', 'round-robin', 'weighted-round-robin', 'ip-hash', 'least-load'] as const;
export type BalancerName = (typeof BALANCERS)[number];
export const DEFAULT_BALANCER: BalancerName = 'least-conn';
