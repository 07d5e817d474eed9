/**
 * Hands accepted sockets to workers (DESIGN.md point 1).
 *
 *   accept -> queue -> scheduler.pick(credit left) -> send {conn,id}+handle
 *                ^                                        |
 *                |  refuse (handle comes back) /          v
 *                |  write failed / worker died    pending (not yet delivered)
 *                +-----------------------------------------+
 *                                                         | receipt (or ack)
 *                                                         v
 *                                               primary closes its copy
 *
 * The primary keeps its copy of every socket until the worker holds one, so
 * a worker that dies, stalls or refuses never takes a connection with it:
 * undelivered sockets go back to the front of the queue. Delivery is node's
 * own receipt of the handle (NODE_HANDLE_ACK, which node's channel sends
 * for every handle anyway; see WorkerProcess), or, where those cannot be
 * read, the worker's `ack`: a message per connection less on both sides
 * than node:cluster's round robin, which sends its own ack besides node's.
 * A worker that refuses a connection it holds sends the handle back. A
 * small credit window per worker keeps node's one-handle-at-a-time IPC
 * queue short, so a stalled worker can hold at most `creditWindow`
 * connections.
 *
 * Connections stay raw libuv handles here, as in node's own cluster: a
 * net.Socket per connection, only to pass its handle on, was the largest
 * part of the primary's cost per connection.
 */
import net from 'node:net';
import type { Logger } from 'pino';
import type { PickContext, Scheduler, WorkerLoad } from '../scheduler/types.js';
import type { RefuseReason } from '../ipc/messages.js';
import { handleAddress, type TcpHandle } from './tcp-handle.js';
import type { Settle, WorkerProcess } from './worker-process.js';

/** How long a connection we are closing may take to finish its FIN exchange before we destroy it. */
const CLOSE_LINGER_MS = 1_000;

/**
 * Closes a connection no worker will serve (rare: only here is it wrapped
 * in a net.Socket). Reading and discarding what the client sent first makes
 * close() send a FIN, not the RST that unread data in the receive buffer
 * would cause.
 */
export function closeCleanly(handle: TcpHandle): void {
  const socket = new net.Socket({ handle, readable: true, writable: true } as unknown as net.SocketConstructorOpts);
  socket.on('error', () => {});
  socket.resume();
  socket.end();
  setTimeout(() => socket.destroy(), CLOSE_LINGER_MS).unref();
}

interface Handoff { readonly handle: TcpHandle; readonly worker: WorkerProcess }
interface Queued { readonly handle: TcpHandle; readonly since: number }

/**
 * What the scheduler sees of the connection it places: a class, so that its
 * getter lives on the prototype (an object literal with a getter, made per
 * connection, came out of V8 in slow dictionary mode and showed among the
 * primary's largest costs per connection).
 */
class ConnContext implements PickContext {
  readonly #handle: TcpHandle;
  readonly now: number;
  readonly waitedMs: number;
  constructor(handle: TcpHandle, now: number, waitedMs: number) {
    this.#handle = handle;
    this.now = now;
    this.waitedMs = waitedMs;
  }
  /** It costs a getpeername(2); only ip-hash reads it, so it is looked up on demand. */
  get remoteAddress(): string | undefined { return handleAddress(this.#handle, 'peer')?.address; }
}

/**
 * Who else wants to know when routing changes (kernel accept: the workers
 * that accept from the shared socket are the routable ones).
 */
export interface RoutingObserver {
  added(w: WorkerProcess): void;
  removed(w: WorkerProcess): void;
  loadChanged(w: WorkerProcess): void;
}

export interface DispatcherOptions {
  readonly creditWindow: number;
  readonly queueTimeoutMs: number;
  /** How a connection no worker will serve is closed (closeCleanly; the unit tests count calls instead). */
  readonly close?: (h: TcpHandle) => void;
}

export class Dispatcher {
  readonly #scheduler: Scheduler;
  readonly #opts: DispatcherOptions;
  readonly #log: Logger;
  #queue: Queued[] = [];
  readonly #pending = new Map<number, Handoff>();
  readonly #workers = new Map<number, WorkerProcess>();
  /** Workers that refused a handoff at their app's maxConnections: skipped until they report a close. */
  readonly #full = new Set<number>();
  /**
   * Handoffs of an exited worker that went back to the queue undelivered.
   * Its channel may still carry a refusal of one of them (with the handle)
   * after its exit: that copy is a duplicate and is closed, not queued twice.
   */
  readonly #redispatched = new WeakMap<WorkerProcess, Set<number>>();
  #seq = 0;
  #saidNoReceipts = false;
  #timer: NodeJS.Timeout | undefined;
  #holdTimer: NodeJS.Timeout | undefined;
  readonly #canTake: (w: WorkerLoad) => boolean;
  #observer: RoutingObserver | undefined;
  /** Totals for status and tests; `receipted`: handoffs delivered at node's receipt (the rest by the worker's ack). */
  readonly stats = { accepted: 0, handedOff: 0, receipted: 0, redispatched: 0, refused: 0, queueTimeouts: 0 };

  constructor(scheduler: Scheduler, opts: DispatcherOptions, log: Logger) {
    this.#scheduler = scheduler;
    this.#opts = opts;
    this.#log = log;
    this.#canTake = (w) => w.pending < this.#opts.creditWindow && !this.#full.has(w.id);
  }

  get queued(): number { return this.#queue.length; }
  get unacknowledged(): number { return this.#pending.size; }
  get routable(): number { return this.#scheduler.size; }
  /** The routable workers, in the order they became routable. */
  get workers(): IterableIterator<WorkerProcess> { return this.#workers.values(); }

  observe(o: RoutingObserver): void { this.#observer = o; }

  /** A new connection the primary accepted (a raw handle, never read here). */
  accept(handle: TcpHandle): void {
    this.stats.accepted++;
    const now = Date.now();
    if (this.#queue.length > 0) {
      this.#queue.push({ handle, since: now });
      this.#drain();
      return;
    }
    // Nothing waits before it (the usual case): placed at once, without a trip through the queue.
    if (this.#place(handle, now, now)) return;
    // Held back (no worker can take it, or the scheduler waits for a better one): it waits first in line.
    this.#queue.push({ handle, since: now });
    this.#armHold(now);
    this.#armTimer();
  }

  /**
   * The worker may take connections from now on. `ramp`: it joins a running
   * pool (replacement, scale up, back from a hang), so its share ramps up
   * over the slow start; workers of the cluster's start take their full
   * share at once.
   */
  addWorker(w: WorkerProcess, ramp: boolean, now = Date.now()): void {
    w.load.readyAt = ramp ? now : -Infinity;
    this.#workers.set(w.id, w);
    this.#scheduler.add(w.load);
    this.#observer?.added(w);
    this.#drain();
  }

  /** No new connection goes to this worker; handoffs still in flight are settled by ack/refuse/exit. */
  removeWorker(w: WorkerProcess): void {
    this.#full.delete(w.id);
    if (!this.#workers.delete(w.id)) return;
    this.#scheduler.remove(w.id);
    this.#observer?.removed(w);
  }

  /** The worker process is gone: everything it had not acknowledged goes back to the queue. */
  workerGone(w: WorkerProcess): void {
    this.removeWorker(w);
    const back: Queued[] = [];
    const ids = new Set<number>();
    for (const [id, h] of this.#pending) {
      if (h.worker !== w) continue;
      this.#pending.delete(id);
      ids.add(id);
      back.push({ handle: h.handle, since: Date.now() });
    }
    w.load.pending = 0;
    if (back.length > 0) {
      this.#redispatched.set(w, ids);
      this.stats.redispatched += back.length;
      this.#log.warn({ worker: w.id, connections: back.length }, 'worker exited with un-acknowledged connections; handing them to other workers');
      this.#queue = [...back, ...this.#queue];
    }
    this.#drain();
  }

  /** The worker's own acknowledgement of handoff `id` (where receipts are not read), with its closes. */
  ack(w: WorkerProcess, id: number, closed: number): void {
    if (!w.receipts && !this.#saidNoReceipts) {
      // The receipt of a handle always arrives before the worker's ack of it (same channel, written first).
      this.#saidNoReceipts = true;
      this.#log.info({ worker: w.id }, "node's handle receipts are not readable here; workers acknowledge each connection with a message of their own");
    }
    this.closed(w, closed);
    this.#delivered(w, id);
  }

  /** Takes handoff `id` of `w` off the pending list: its handle, or undefined when it is not pending (delivered, or re-queued). */
  #unpend(w: WorkerProcess, id: number): TcpHandle | undefined {
    const h = this.#pending.get(id);
    if (!h || h.worker !== w) return undefined;
    this.#pending.delete(id);
    w.load.pending--;
    return h.handle;
  }

  /** Whichever comes first, the receipt or the ack: later ones find nothing pending (false). */
  #delivered(w: WorkerProcess, id: number): boolean {
    const handle = this.#unpend(w, id);
    if (!handle) return false;
    // The worker has its own descriptor now; closing ours does not touch the connection.
    handle.close();
    this.#drain();
    return true;
  }

  /** A connection goes back first in line (refused, or its write failed). */
  #requeueFirst(handle: TcpHandle): void {
    this.#queue.unshift({ handle, since: Date.now() });
    this.#drain();
  }

  /** Settles a handoff at its receipt, or puts it back first in line when its write failed (the worker is left out). */
  readonly #settle: Settle = (w, id, received) => {
    if (received) {
      if (this.#delivered(w, id)) this.stats.receipted++;
      return;
    }
    const handle = this.#unpend(w, id);
    if (!handle) return;
    w.load.conns--;
    // Its channel failed (EPIPE: the worker is going away): nothing more is sent its way.
    this.removeWorker(w);
    this.#log.warn({ worker: w.id }, 'handing a connection to a worker failed; taking the worker out of rotation, the connection goes to another');
    this.#requeueFirst(handle);
  };

  /**
   * The worker refused handoff `id`; `returned` is the handle it sent back.
   * The worker is not offered another connection until it can take one (a
   * close for `full`, never for `closed`), so a refused socket cannot bounce
   * between the primary and the same worker.
   */
  refuse(w: WorkerProcess, id: number, reason: RefuseReason, returned?: TcpHandle): void {
    let handle = this.#unpend(w, id);
    if (handle) {
      // Not delivered yet (no receipt): ours is the copy that goes on; the one sent back is a duplicate.
      returned?.close();
    } else if (this.#redispatched.get(w)?.delete(id)) {
      // Already back in the queue since the worker exited.
      returned?.close();
      return;
    } else if (returned) {
      handle = returned;
    } else {
      // Delivered, and it could not come back (the primary was out of descriptors, say): lost.
      this.#log.warn({ worker: w.id }, 'a worker refused a connection and could not hand it back; it is closed');
      return;
    }
    if (reason === 'full') this.#full.add(w.id);
    else this.removeWorker(w);
    w.load.conns--;
    this.stats.refused++;
    this.#requeueFirst(handle);
  }

  /** Connections the worker reports closed. */
  closed(w: WorkerProcess, n: number): void {
    if (n <= 0) return;
    w.load.conns = Math.max(0, w.load.conns - n);
    if (this.#full.delete(w.id)) this.#drain();
  }

  /** A worker's load report arrived: a held connection may go to it now. */
  loadChanged(w: WorkerProcess): void {
    if (this.#queue.length > 0) this.#drain();
    if (this.#workers.has(w.id)) this.#observer?.loadChanged(w);
  }

  /** The scheduler held the head connection back: retry at the latest when its hold ends. */
  #armHold(since: number): void {
    const hold = this.#scheduler.holdMs;
    if (hold <= 0 || this.#holdTimer || this.#scheduler.size === 0) return;
    this.#holdTimer = setTimeout(() => { this.#holdTimer = undefined; this.#drain(); }, Math.max(0, since + hold - Date.now()));
  }

  /** Closes queued connections (the listener is closed and no worker will take them). */
  abandonQueue(): void {
    for (const q of this.#queue) this.#closeQueued(q.handle);
    this.#queue = [];
  }

  #drain(): void {
    while (this.#queue.length > 0) {
      const head = this.#queue[0]!;
      if (!this.#place(head.handle, head.since, Date.now())) { this.#armHold(head.since); break; }
      this.#queue.shift();
    }
    this.#armTimer();
  }

  /** Hands the connection to the worker the scheduler picks; false when it picks none. */
  #place(handle: TcpHandle, since: number, now: number): boolean {
    const load = this.#scheduler.pick(new ConnContext(handle, now, now - since), this.#canTake);
    const w = load && this.#workers.get(load.id);
    if (!w) return false;
    this.#handoff(w, handle);
    return true;
  }

  #handoff(w: WorkerProcess, handle: TcpHandle): void {
    const id = ++this.#seq;
    this.#pending.set(id, { handle, worker: w });
    w.load.pending++;
    w.load.conns++;
    this.stats.handedOff++;
    // The raw handle travels as 'net.Native': node keeps our copy open (like keepOpen) until we
    // close it at its delivery. A worker whose channel is closed is exiting: the connection goes
    // back to the queue with the rest of its undelivered ones then.
    w.sendConn(id, handle, this.#settle);
  }

  /** Closes connections that waited longer than queueTimeoutMs; re-armed while the queue is not empty. */
  #armTimer(): void {
    if (this.#queue.length === 0) {
      if (this.#timer) { clearTimeout(this.#timer); this.#timer = undefined; }
      return;
    }
    if (this.#timer) return;
    const oldest = this.#queue[0]!.since;
    const wait = Math.max(0, oldest + this.#opts.queueTimeoutMs - Date.now());
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      const now = Date.now();
      let expired = 0;
      while (this.#queue.length > 0 && now - this.#queue[0]!.since >= this.#opts.queueTimeoutMs) {
        this.#closeQueued(this.#queue.shift()!.handle);
        expired++;
      }
      if (expired > 0) {
        this.stats.queueTimeouts += expired;
        this.#log.error({ connections: expired, queueTimeoutMs: this.#opts.queueTimeoutMs }, 'no worker could take these connections in time; closed them');
      }
      this.#armTimer();
    }, wait);
  }

  #closeQueued(handle: TcpHandle): void {
    (this.#opts.close ?? closeCleanly)(handle);
  }
}
