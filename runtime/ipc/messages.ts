/**
 * Every message between the primary and a worker, as one typed union.
 * Each side dispatches through a table keyed by `shoal` (the discriminant),
 * so a new message is a type error until both tables handle it.
 *
 * The `shoal` key also tells our messages apart from an app's own
 * process.send() traffic, which we leave alone.
 */
import type { Delta, SessionState } from '../session/model.js';

/** Session changes as [session id, delta] pairs, in the order they were made. */
export type SessionChanges = [string, Delta][];

/** A worker's replica as it reports itself to `shoal status` (latencies in ms, null before any sample). */
export interface ReplicaStats {
  readonly sessions: number;
  readonly bytes: number;
  /** Delay from a write on another worker to its arrival here, over the last samples. */
  readonly lagP50: number | null;
  readonly lagP99: number | null;
  readonly lagMax: number | null;
  /** Round trip of this worker's own writes to the primary (what a response that changed a session waits). */
  readonly saveP50: number | null;
  readonly saveP99: number | null;
  readonly samples: number;
}

/**
 * HTTP figures a worker folded since its last report (runtime/worker/http-stats.ts):
 * responses per status class 1xx..5xx, durations per bucket (not
 * cumulative; the last is +Inf) and their sum in seconds.
 */
export interface HttpDelta {
  readonly codes: readonly number[];
  readonly buckets: readonly number[];
  readonly sum: number;
}

/**
 * Kernel accept (DESIGN.md, "Kernel accept"): how a worker gates its own
 * acceptor. It accepts while its load key stays within `slack` of the
 * cluster's floor (see runtime/scheduler/gate.ts); `rampMs` is what is left
 * of its slow start.
 */
export interface AcceptParams {
  readonly balancer: 'least-conn' | 'least-load';
  readonly weight: number;
  readonly slack: number;
  readonly slowStartMs: number;
  readonly rampMs: number;
  /** Longest a worker stays paused on one floor before it accepts anyway (the floor may be stale). */
  readonly holdMs: number;
}

/** primary -> worker */
export type ToWorker =
  /** A connection handed over; the socket handle travels with the message. */
  | { shoal: 'conn'; id: number }
  /**
   * The primary reads node's own receipts of the handles it sends this
   * worker (NODE_HANDLE_ACK) and takes a connection's as its delivery: stop
   * sending `ack` for each one.
   */
  | { shoal: 'receipts' }
  /** Accept from the shared listening socket, whose handle travels with the message, gated by `params`. */
  | { shoal: 'accept'; params: AcceptParams; floor: number }
  /** Stop accepting from the shared socket (close this worker's descriptor of it); answered by `unaccepted`. */
  | { shoal: 'unaccept' }
  /** The least loaded worker's key: accept while yours is within the slack of it. */
  | { shoal: 'floor'; floor: number }
  /** Send the handle that travels with this message straight back (the primary needs a copy it can pause). */
  | { shoal: 'echo'; tag: EchoTag }
  /** Answer to `bind`: the port served, and the address bound; or why it could not be bound. */
  | { shoal: 'bound'; port: number; address: string; family: 'IPv4' | 'IPv6' }
  | { shoal: 'bind-failed'; message: string; code: string }
  /** Answer to `share`: a descriptor of the shared socket travels with it, or `error` says why there is none. */
  | { shoal: 'shared'; req: number; error?: { message: string; code: string } }
  /** Stop taking connections, finish in-flight requests, then exit. */
  | { shoal: 'stop'; timeoutMs: number }
  /** A slice of the host's sessions for a new worker; `done` on the last one (then it may become routable). */
  | { shoal: 'sess-sync'; sessions: [string, SessionState][]; done: boolean }
  /** Changes another worker made, stamped `t` (ms, sub-ms precision) when that worker sent them. */
  | { shoal: 'sess-delta'; t: number; changes: SessionChanges }
  /** The primary applied this worker's writes up to `seq` and passed them to every other worker. */
  | { shoal: 'sess-ack'; seq: number }
  /** `shoal status` asks for the replica's figures. */
  | { shoal: 'sess-probe'; probe: number }
  /**
   * Answer to sess-fetch: the session (now also in the replica's store), or
   * null if the host and Redis have none; `unavailable`: Redis could not be
   * asked (down), so null only means this host has none.
   */
  | { shoal: 'sess-fetched'; req: number; id: string; state: SessionState | null; unavailable?: true }
  /** A scrape: send the app's prom-client metrics. */
  | { shoal: 'metrics'; req: number }
  /** Distributed mode: this host missed changes (a gap in the Redis log); forget the cached sessions, they are read again on demand. */
  | { shoal: 'sess-drop' };

/** worker -> primary */
export type ToPrimary =
  /** The app's server listens on the shoal port: the worker is routable. */
  | { shoal: 'listening' }
  /** The app asked for explicit readiness and called ready(). */
  | { shoal: 'ready' }
  /**
   * Handoff `id` reached the worker and is owned by it now; the primary closes its copy.
   * `closed` piggybacks the connections closed since the last report (saves a message).
   * Sent only until the primary says it reads `receipts`.
   */
  | { shoal: 'ack'; id: number; closed: number }
  /**
   * The worker refuses handoff `id`: hand it to another. `full`: the app's
   * server is at its maxConnections (routable again after a close);
   * `closed`: no server or retiring (not routable any more). The connection's
   * handle travels back with it (the primary may have closed its own copy at
   * the receipt), unless the worker never got one.
   */
  | { shoal: 'refuse'; id: number; reason: RefuseReason }
  /**
   * Load report, batched: connections closed since the last report,
   * requests in flight now, requests completed since the last report,
   * event-loop utilisation since the last report. `conns` is the worker's
   * open connections now; `accepted`, the ones it took from the shared socket
   * since the last report; `paused`, whether its acceptor sits out (kernel accept);
   * `http`, the per-request figures since the last report, when there are any.
   */
  | { shoal: 'load'; closed: number; inflight: number; done: number; elu: number; rss: number; conns: number; accepted: number; paused: boolean; http?: HttpDelta }
  /** The acceptor is closed (after `unaccept`): this worker takes nothing more from the shared socket. */
  | { shoal: 'unaccepted' }
  /** The handle of an `echo`, sent back. */
  | { shoal: 'echo'; tag: EchoTag }
  /** The app's listening server closed: stop routing here. */
  | { shoal: 'unlisten' }
  /** The app listened on ports other than the shoal one (reported to explain a missing listen). */
  | { shoal: 'other-listen'; port: string }
  /** No port was given to shoal: serve the one the app's first listen asks for (null: it asked for none). */
  | { shoal: 'bind'; port: number | null }
  /** The app listens on another fixed port: a descriptor of one socket bound by the primary, shared by every worker. */
  | { shoal: 'share'; req: number; port: number; host: string | null }
  /** The entry threw during start-up; sent before the worker exits. */
  | { shoal: 'fatal'; message: string; stack?: string }
  /** Session changes made here (applied locally already), numbered for the ack, stamped when sent. */
  | { shoal: 'sess-write'; seq: number; t: number; changes: SessionChanges }
  /** The host's sessions have arrived (the last sess-sync). */
  | { shoal: 'sess-synced' }
  /** Answer to sess-probe. */
  | { shoal: 'sess-stats'; probe: number; stats: ReplicaStats }
  /**
   * Answer to scrape `req`: the app's metrics as prom-client's
   * getMetricsAsJSON() gives them, or null and the error. `final`: sent
   * unasked before a graceful exit (the counters as they end).
   */
  | { shoal: 'metrics'; req: number; metrics: unknown[] | null; error?: string; final?: true }
  /** A request names a session this replica does not hold (evicted here, or never seen by this host): ask for it. */
  | { shoal: 'sess-fetch'; req: number; id: string; min?: string };

export type RefuseReason = 'full' | 'closed';

/** What an echoed handle is: a throwaway socket for the start-up self-test, or the served port. */
export type EchoTag = 'probe' | 'listen';

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
  maxSessions: 'SHOAL_MAX_SESSIONS',
  maxSessionMemory: 'SHOAL_MAX_SESSION_MEMORY',
  sessionsMode: 'SHOAL_SESSIONS_MODE',
  sessionsShared: 'SHOAL_SESSIONS_SHARED',
  /** '1': report busy and idle edges at once (least-load holds connections for the first idle worker). */
  edges: 'SHOAL_REPORT_EDGES',
  /** The load reports' batch window, ms, where it is longer than the report interval (see forkSpec). */
  reportWindowMs: 'SHOAL_REPORT_WINDOW_MS',
  /** Set when the primary scrapes the app's metrics (--admin): how long it waits for an answer. */
  scrapeMs: 'SHOAL_SCRAPE_MS',
} as const;
