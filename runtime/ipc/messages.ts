/**
 * Every message between the primary and a worker, as one typed union.
 * Each side dispatches through a table keyed by `shoal` (the discriminant),
 * so a new message is a type error until both tables handle it.
 *
 * The `shoal` key also tells our messages apart from an app's own
 * process.send() traffic, which we leave alone.
 */

/** primary -> worker */
export type ToWorker =
  /** A connection handed over; the socket handle travels with the message. */
  | { shoal: 'conn'; id: number }
  /** Stop taking connections, finish in-flight requests, then exit. */
  | { shoal: 'stop'; timeoutMs: number };

/** worker -> primary */
export type ToPrimary =
  /** The app's server listens on the shoal port: the worker is routable. */
  | { shoal: 'listening' }
  /** The app asked for explicit readiness and called ready(). */
  | { shoal: 'ready' }
  /**
   * Handoff `id` reached the worker and is owned by it now; the primary closes its copy.
   * `closed` piggybacks the connections closed since the last report (saves a message).
   */
  | { shoal: 'ack'; id: number; closed: number }
  /**
   * The worker refuses handoff `id`: hand it to another. `full`: the app's
   * server is at its maxConnections (routable again after a close);
   * `closed`: no server or retiring (not routable any more).
   */
  | { shoal: 'refuse'; id: number; reason: RefuseReason }
  /**
   * Load report, batched: connections closed since the last report,
   * requests in flight now, requests completed since the last report,
   * event-loop utilisation since the last report.
   */
  | { shoal: 'load'; closed: number; inflight: number; done: number; elu: number; rss: number }
  /** The app's listening server closed: stop routing here. */
  | { shoal: 'unlisten' }
  /** The app listened on ports other than the shoal one (reported to explain a missing listen). */
  | { shoal: 'other-listen'; port: string }
  /** The entry threw during start-up; sent before the worker exits. */
  | { shoal: 'fatal'; message: string; stack?: string };

export type RefuseReason = 'full' | 'closed';

export type ToWorkerType = ToWorker['shoal'];
export type ToPrimaryType = ToPrimary['shoal'];

export type Handlers<U extends { shoal: string }, Extra extends unknown[] = []> = {
  [K in U['shoal']]: (msg: Extract<U, { shoal: K }>, ...extra: Extra) => void;
};

export const isShoalMessage = (m: unknown): m is { shoal: string } =>
  typeof m === 'object' && m !== null && typeof (m as { shoal?: unknown }).shoal === 'string';

/** Calls the handler for `msg` if it is one of ours; returns false for foreign messages. */
export function dispatch<U extends { shoal: string }, Extra extends unknown[]>(
  table: Handlers<U, Extra>,
  msg: unknown,
  ...extra: Extra
): boolean {
  if (!isShoalMessage(msg)) return false;
  const h = (table as Record<string, ((m: unknown, ...e: Extra) => void) | undefined>)[msg.shoal];
  if (h === undefined) return false;
  h(msg, ...extra);
  return true;
}

/** Environment variables the primary sets for its workers. */
export const ENV = {
  port: 'SHOAL_PORT',
  host: 'SHOAL_HOST',
  workerId: 'SHOAL_WORKER_ID',
  name: 'SHOAL_NAME',
  waitReady: 'SHOAL_WAIT_READY',
  reportMs: 'SHOAL_REPORT_MS',
} as const;
