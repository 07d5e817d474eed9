/**
 * The public API for apps. Every function works outside a shoal cluster too
 * (plain `node app.js`, tests): it then does nothing harmful.
 */
import { workerState } from './worker/state.js';
import { ENV } from './ipc/messages.js';
import type { MetricsSource } from './worker/app-metrics.js';

/** True inside a worker launched by shoal. */
export const isWorker: boolean = process.env[ENV.workerId] !== undefined && typeof process.send === 'function';

/** The primary never runs app code; exported for symmetry with node:cluster. */
export const isPrimary = false;

/** This worker's id (1, 2, …; a replacement gets a new id), or undefined outside a cluster. */
export const workerId: number | undefined = isWorker ? Number(process.env[ENV.workerId]) : undefined;

/**
 * Tells the primary this worker can take traffic. Only needed when the
 * cluster runs with --wait-ready (an app that connects to a database before
 * it may serve); otherwise a worker is ready when its server listens.
 */
export function ready(): void {
  const s = workerState();
  if (s.readyCalled) return;
  s.readyCalled = true;
  // Before the app listened there is nothing to route to: the shim sends it when the server is adopted.
  if (isWorker && s.servers.length > 0) s.send({ shoal: 'ready' });
}

/**
 * Registers a hook run once when this worker retires (reload, scale down,
 * stop), after it stops taking connections and before it exits: close what
 * the runtime cannot see (WebSockets, database pools). Bounded by the stop
 * timeout. Returns a function that unregisters the hook.
 */
export function onShutdown(fn: () => unknown): () => void {
  const hooks = workerState().shutdownHooks;
  hooks.push(fn);
  return () => {
    const i = hooks.indexOf(fn);
    if (i >= 0) hooks.splice(i, 1);
  };
}

/**
 * The app's own prom-client metrics in the cluster's /metrics (see the
 * README, "Metrics"). prom-client's default registry is found without this;
 * an app with its own Registry passes it once:
 *
 *   import { metrics } from 'shoal';
 *   metrics.register(registry);
 *
 * Every worker's values are then summed on each scrape (as prom-client's
 * `aggregator` option says). Outside a cluster it only keeps the registry.
 */
export const metrics = {
  register(registry: MetricsSource): void {
    if (typeof (registry as { getMetricsAsJSON?: unknown } | null)?.getMetricsAsJSON !== 'function') {
      throw new TypeError('metrics.register() takes a prom-client Registry (an object with getMetricsAsJSON())');
    }
    const list = workerState().registries;
    if (!list.includes(registry)) list.push(registry);
  },
};

/**
 * Sessions shared by every worker of the host (and, outside a cluster, kept
 * in this process): `sessions({ secret })` gives a manager whose
 * `load(cookieHeader)` returns the request's session. The fastify plugin
 * (`shoal/fastify`) and the express-session store (`shoal/express`) are
 * built on it.
 */
export { sessions, Session, SessionManager, type CookieOptions, type Json, type LoadOptions, type SessionOptions } from './session/manager.js';
export { DEFAULT_COOKIE_NAME } from './session/manager-options.js';
export { DEFAULT_SESSION_TTL_MS, DEFAULT_MAX_SESSION_BYTES } from './session/store-options.js';
export { ShoalError, type ShoalErrorCode } from './errors.js';
