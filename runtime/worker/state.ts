/**
 * State shared by the worker shim and the app-facing API (runtime/index.ts).
 * It lives on globalThis under a registered symbol because the shim (loaded
 * with --import from the shoal that launched the cluster) and the `shoal`
 * package the app imports may be two copies of the code.
 */
import type net from 'node:net';
import type { Replica } from '../session/replica.js';
import type { MetricsSource } from './app-metrics.js';

export interface WorkerState {
  /** Servers the app listened with on the shoal port, in listen order; the first open one takes connections. */
  readonly servers: net.Server[];
  /** Set once the worker is retiring: new handoffs are refused, responses carry Connection: close. */
  draining: boolean;
  /** Hooks registered with onShutdown(), run once when the worker retires. */
  readonly shutdownHooks: (() => unknown)[];
  /** ready() was called (matters with --wait-ready). */
  readyCalled: boolean;
  /** prom-client registries the app passed to metrics.register(), read when the primary scrapes. */
  readonly registries: MetricsSource[];
  /** This process's session replica: set up by the shim in a worker, created on first use outside a cluster. */
  sessions?: Replica;
  /**
   * Sends a message to the primary, or does nothing outside a cluster. With
   * a handle, `sent` runs once it has left (or could not): the time to close
   * this process's copy.
   */
  send: (msg: unknown, handle?: unknown, sent?: () => void) => void;
}

const KEY = Symbol.for('shoal.worker.state');

export function workerState(): WorkerState {
  const g = globalThis as { [KEY]?: WorkerState };
  g[KEY] ??= {
    servers: [],
    draining: false,
    shutdownHooks: [],
    readyCalled: false,
    registries: [],
    send: (msg, handle, sent) => {
      if (!process.connected || !process.send) { sent?.(); return; }
      if (handle === undefined) process.send(msg);
      else process.send(msg, handle as never, () => sent?.());
    },
  };
  return g[KEY];
}
