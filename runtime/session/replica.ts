/**
 * A worker's replica of the host's sessions, and its link to the primary.
 *
 *   worker A                      primary (hub)                 worker B
 *   write: apply locally  --sess-write seq-->  apply, then
 *                                              --sess-delta-->  apply
 *                         <--sess-ack seq---   (after the fan-out)
 *   save() resolves: the response may go out
 *
 * Reads never leave the process: they are lookups in the local store.
 *
 * Read-your-writes across workers: a response that changed a session waits
 * for the primary's ack (save()). The primary sends the ack only after it has
 * queued the change on every other worker's channel, and it hands a worker
 * a connection on that same ordered channel. So any connection the client
 * opens after that response reaches its worker behind the change: the worker
 * has applied it before it reads the first byte. (An IPC channel delivers in
 * order, and Node queues every message behind a pending handle.)
 *
 * Writes made in one turn of the event loop travel as one message.
 * Outside a cluster (no `send`), the replica is the whole store and writes
 * are done once applied.
 */
import { ShoalError } from '../errors.js';
import type { ReplicaStats, SessionChanges, ToPrimary, ToWorker } from '../ipc/messages.js';
import { formatHlc, HybridClock, parseHlc, randomNodeId } from './hlc.js';
import { isDestroyed, join, type Delta, type SessionState, type Version } from './model.js';
import { preciseNow, Samples } from './samples.js';
import { SessionStore, type SessionStoreOptions } from './store.js';
import { maxVersionOf } from './validate.js';

/** How a fetch ended: the session (now in the local store), or none; `known: false` when nobody could tell (Redis down, no answer in time). */
export interface FetchResult {
  readonly state: SessionState | undefined;
  readonly known: boolean;
}

/** How long save() waits for the primary's ack before it fails the request. */
export const DEFAULT_ACK_TIMEOUT_MS = 5_000;
/** How long a request waits for a session fetched from the primary (or Redis) before it goes on without it (under the same id: see manager.ts). */
export const DEFAULT_FETCH_TIMEOUT_MS = 1_000;

export interface ReplicaOptions extends SessionStoreOptions {
  /** Sends to the primary; absent outside a cluster. */
  readonly send?: (msg: ToPrimary) => void;
  readonly ackTimeoutMs?: number;
  readonly fetchTimeoutMs?: number;
  /**
   * Distributed mode: this replica is a near-cache of Redis. Changes from
   * elsewhere are applied only to sessions it holds (the others are read on
   * demand, whole), never creating a partial one.
   */
  readonly nearCache?: boolean;
  /**
   * Sessions are shared with other hosts (Redis): a response that wrote
   * carries the version a client must find on any host (see manager.ts).
   */
  readonly shared?: boolean;
  /** HLC node id; random by default (unique per process, so versions never tie between writers). */
  readonly node?: string;
}

interface Waiter { readonly seq: number; readonly resolve: () => void; readonly reject: (e: Error) => void; readonly timer: NodeJS.Timeout }

export class Replica {
  readonly store: SessionStore;
  readonly clock: HybridClock;
  readonly #send: ((msg: ToPrimary) => void) | undefined;
  readonly #ackTimeoutMs: number;
  readonly #fetchTimeoutMs: number;
  readonly #nearCache: boolean;
  readonly shared: boolean;
  readonly #fetches = new Map<number, (result: FetchResult) => void>();
  #nextFetch = 1;
  readonly #outbox = new Map<string, Delta>();
  #flushScheduled: NodeJS.Immediate | undefined;
  #seq = 0;
  #acked = 0;
  readonly #waiters: Waiter[] = [];
  readonly #sentAt = new Map<number, number>();
  readonly #lag = new Samples();
  readonly #save = new Samples();
  #synced: boolean;

  constructor(opts: ReplicaOptions = {}) {
    this.store = new SessionStore(opts);
    this.clock = new HybridClock(opts.node ?? randomNodeId('w'));
    this.#send = opts.send;
    this.#ackTimeoutMs = opts.ackTimeoutMs ?? DEFAULT_ACK_TIMEOUT_MS;
    this.#fetchTimeoutMs = opts.fetchTimeoutMs ?? DEFAULT_FETCH_TIMEOUT_MS;
    this.#nearCache = opts.nearCache === true;
    this.shared = opts.shared === true;
    this.#synced = opts.send === undefined;
  }

  /** True outside a cluster, and in a worker once the host's sessions have arrived. */
  get synced(): boolean { return this.#synced; }

  /** A version greater than every one issued or seen here. */
  version(): Version { return formatHlc(this.clock.now()); }

  /** The live session (not expired, not destroyed), or undefined. A map lookup. */
  get(id: string): SessionState | undefined {
    const s = this.store.get(id);
    return s === undefined || isDestroyed(s) ? undefined : s;
  }

  /**
   * Asks the primary for a session this replica does not hold (read-through:
   * evicted here, or only in Redis), or holds older than version `min` (a
   * client coming from another host). Resolves with it, now in the local
   * store; with no state when nobody has it or outside a cluster (known);
   * and with `known: false` when nobody could tell: Redis is down, or no
   * answer came within fetchTimeoutMs.
   */
  fetch(id: string, min?: Version): Promise<FetchResult> {
    if (this.#send === undefined) return Promise.resolve({ state: undefined, known: true });
    const req = this.#nextFetch++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => { this.#fetches.delete(req); resolve({ state: this.get(id), known: false }); }, this.#fetchTimeoutMs);
      this.#fetches.set(req, (result) => { clearTimeout(timer); resolve(result); });
      this.#send!(min === undefined ? { shoal: 'sess-fetch', req, id } : { shoal: 'sess-fetch', req, id, min });
    });
  }

  /**
   * Applies `delta` here at once and queues it for the other workers.
   * Throws (SHOAL_ERR_SESSION_TOO_LARGE) with nothing changed or queued.
   */
  write(id: string, delta: Delta, maxSessionBytes?: number): void {
    this.store.applyDelta(id, delta, maxSessionBytes === undefined ? {} : { maxSessionBytes });
    if (this.#send === undefined) return;
    const queued = this.#outbox.get(id);
    this.#outbox.set(id, queued === undefined ? delta : join(queued, delta));
    this.#flushScheduled ??= setImmediate(() => this.flush());
  }

  /** Sends what is queued now rather than at the end of this turn of the loop. */
  flush(): void {
    if (this.#flushScheduled) { clearImmediate(this.#flushScheduled); this.#flushScheduled = undefined; }
    if (this.#outbox.size === 0 || this.#send === undefined) return;
    const changes: SessionChanges = [...this.#outbox];
    this.#outbox.clear();
    const seq = ++this.#seq;
    const t = preciseNow();
    this.#sentAt.set(seq, t);
    this.#send({ shoal: 'sess-write', seq, t, changes });
  }

  /**
   * Resolves once every write made here so far is on every worker's channel
   * (see the header); at once outside a cluster. Rejects after ackTimeoutMs.
   *
   * It does not send what is queued now: the flush at the end of this turn
   * of the loop does, so the saves of every request a turn serves share one
   * message and one ack. Sending each at once cost an IPC write and an ack
   * per request, and the primary a wake-up for each: express-session +
   * ShoalStore served 5.3k req/s that way against 6.1k batched (medians of 4
   * alternating runs), the primary using 0.23 cores against 0.12 (see the
   * commit).
   */
  replicated(): Promise<void> {
    // What is queued goes out as the next message, numbered one past the last sent.
    const seq = this.#outbox.size > 0 ? this.#seq + 1 : this.#seq;
    if (this.#acked >= seq) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.#waiters.findIndex((w) => w.timer === timer);
        if (i >= 0) this.#waiters.splice(i, 1);
        reject(new ShoalError('SHOAL_ERR_SESSION_UNREPLICATED', String(this.#ackTimeoutMs)));
      }, this.#ackTimeoutMs);
      this.#waiters.push({ seq, resolve, reject, timer });
    });
  }

  /** Handles the primary's session messages; returns a reply to send, if any. */
  receive(msg: Extract<ToWorker, { shoal: `sess-${string}` }>): ToPrimary | undefined {
    switch (msg.shoal) {
      case 'sess-sync':
        for (const [id, state] of msg.sessions) this.#applyRemote(id, state);
        if (!msg.done) return undefined;
        this.#synced = true;
        return { shoal: 'sess-synced' };
      case 'sess-delta':
        for (const [id, delta] of msg.changes) if (!this.#nearCache || this.store.has(id)) this.#applyRemote(id, delta);
        this.#lag.record(preciseNow() - msg.t);
        return undefined;
      case 'sess-ack':
        this.#ack(msg.seq);
        return undefined;
      case 'sess-probe':
        return { shoal: 'sess-stats', probe: msg.probe, stats: this.stats() };
      case 'sess-drop':
        this.store.clear();
        return undefined;
      case 'sess-fetched': {
        const done = this.#fetches.get(msg.req);
        this.#fetches.delete(msg.req);
        // Merged even when the request gave up waiting: it is the host's copy all the same.
        if (msg.state) this.#applyRemote(msg.id, msg.state);
        done?.({ state: msg.state ? this.get(msg.id) : undefined, known: msg.unavailable !== true });
        return undefined;
      }
    }
  }

  stats(): ReplicaStats {
    const s = this.store.stats();
    return {
      sessions: s.sessions,
      bytes: s.bytes,
      lagP50: this.#lag.quantile(0.5),
      lagP99: this.#lag.quantile(0.99),
      lagMax: this.#lag.quantile(1),
      saveP50: this.#save.quantile(0.5),
      saveP99: this.#save.quantile(0.99),
      samples: this.#lag.count,
    };
  }

  close(): void {
    if (this.#flushScheduled) clearImmediate(this.#flushScheduled);
    this.#flushScheduled = undefined;
    this.store.close();
  }

  /** A peer already accepted this change: merge it whatever its size, and move the clock past it so later local writes win over it. */
  #applyRemote(id: string, delta: Delta): void {
    this.store.applyDelta(id, delta, { enforceLimit: false });
    const v = maxVersionOf(delta);
    const hlc = v === undefined ? undefined : parseHlc(v);
    if (hlc === undefined) return;
    try { this.clock.receive(hlc); } catch { /* drift: the data is merged all the same; local versions keep their own clock */ }
  }

  #ack(seq: number): void {
    const now = preciseNow();
    for (let s = this.#acked + 1; s <= seq; s++) {
      const sent = this.#sentAt.get(s);
      if (sent !== undefined) this.#save.record(now - sent);
      this.#sentAt.delete(s);
    }
    if (seq > this.#acked) this.#acked = seq;
    while (this.#waiters.length > 0 && this.#waiters[0]!.seq <= this.#acked) {
      const w = this.#waiters.shift()!;
      clearTimeout(w.timer);
      w.resolve();
    }
  }
}
