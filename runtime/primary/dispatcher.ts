/**
 * Hands accepted sockets to workers (DESIGN.md point 1).
 *
 *   accept -> queue -> scheduler.pick(credit left) -> send {conn,id}+handle
 *                ^                                        |
 *                |   refuse / worker died before ack      v
 *                +------------------------------- pending (un-acked)
 *                                                         | ack
 *                                                         v
 *                                               primary closes its copy
 *
 * The primary keeps its copy of every socket until the worker acknowledges
 * it, so a worker that dies, stalls or refuses never takes a connection with
 * it: un-acknowledged sockets go back to the front of the queue. A small
 * credit window per worker keeps node's one-handle-at-a-time IPC queue short,
 * so a stalled worker can hold at most `creditWindow` connections.
 */
import type net from 'node:net';
import type { Logger } from 'pino';
import type { Scheduler, WorkerLoad } from '../scheduler/types.js';
import type { RefuseReason } from '../ipc/messages.js';
import type { WorkerProcess } from './worker-process.js';

/** How long a connection we are closing may take to finish its FIN exchange before we destroy it. */
const CLOSE_LINGER_MS = 1_000;

interface Handoff { readonly socket: net.Socket; readonly worker: WorkerProcess }
interface Queued { readonly socket: net.Socket; readonly since: number }

export interface DispatcherOptions {
  readonly creditWindow: number;
  readonly queueTimeoutMs: number;
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
  #seq = 0;
  #timer: NodeJS.Timeout | undefined;
  #holdTimer: NodeJS.Timeout | undefined;
  readonly #canTake: (w: WorkerLoad) => boolean;
  /** Totals for status and tests. */
  readonly stats = { accepted: 0, handedOff: 0, redispatched: 0, refused: 0, queueTimeouts: 0 };

  constructor(scheduler: Scheduler, opts: DispatcherOptions, log: Logger) {
    this.#scheduler = scheduler;
    this.#opts = opts;
    this.#log = log;
    this.#canTake = (w) => w.pending < this.#opts.creditWindow && !this.#full.has(w.id);
  }

  get queued(): number { return this.#queue.length; }
  get unacknowledged(): number { return this.#pending.size; }
  get routable(): number { return this.#scheduler.size; }

  /** A new connection from the listener. */
  accept(socket: net.Socket): void {
    this.stats.accepted++;
    // The socket is paused and never read here; an error (client reset) only needs to not crash us.
    socket.on('error', () => {});
    this.#queue.push({ socket, since: Date.now() });
    this.#drain();
  }

  /** The worker may take connections from now on. */
  addWorker(w: WorkerProcess, now = Date.now()): void {
    w.load.readyAt = now;
    this.#workers.set(w.id, w);
    this.#scheduler.add(w.load);
    this.#drain();
  }

  /** No new connection goes to this worker; handoffs still in flight are settled by ack/refuse/exit. */
  removeWorker(w: WorkerProcess): void {
    this.#full.delete(w.id);
    if (!this.#workers.delete(w.id)) return;
    this.#scheduler.remove(w.id);
  }

  /** The worker process is gone: everything it had not acknowledged goes back to the queue. */
  workerGone(w: WorkerProcess): void {
    this.removeWorker(w);
    const back: Queued[] = [];
    for (const [id, h] of this.#pending) {
      if (h.worker !== w) continue;
      this.#pending.delete(id);
      back.push({ socket: h.socket, since: Date.now() });
    }
    w.load.pending = 0;
    if (back.length > 0) {
      this.stats.redispatched += back.length;
      this.#log.warn({ worker: w.id, connections: back.length }, 'worker exited with un-acknowledged connections; handing them to other workers');
      this.#queue = [...back, ...this.#queue];
    }
    this.#drain();
  }

  ack(w: WorkerProcess, id: number, closed: number): void {
    const h = this.#pending.get(id);
    this.closed(w, closed);
    if (!h) return;
    this.#pending.delete(id);
    w.load.pending--;
    // The worker has its own descriptor now; closing ours does not touch the connection.
    h.socket.destroy();
    this.#drain();
  }

  /**
   * The worker refused handoff `id`. It is not offered another connection
   * until it can take one (a close for `full`, never for `closed`), so a
   * refused socket cannot bounce between the primary and the same worker.
   */
  refuse(w: WorkerProcess, id: number, reason: RefuseReason): void {
    const h = this.#pending.get(id);
    if (!h) return;
    if (reason === 'full') this.#full.add(w.id);
    else this.removeWorker(w);
    this.#pending.delete(id);
    w.load.pending--;
    w.load.conns--;
    this.stats.refused++;
    this.#queue.unshift({ socket: h.socket, since: Date.now() });
    this.#drain();
  }

  /** Connections the worker reports closed. */
  closed(w: WorkerProcess, n: number): void {
    if (n <= 0) return;
    w.load.conns = Math.max(0, w.load.conns - n);
    if (this.#full.delete(w.id)) this.#drain();
  }

  /** A worker's load report arrived: a held connection may go to it now. */
  loadChanged(): void {
    if (this.#queue.length > 0) this.#drain();
  }

  /** The scheduler held the head connection back: retry at the latest when its hold ends. */
  #armHold(since: number): void {
    const hold = this.#scheduler.holdMs;
    if (hold <= 0 || this.#holdTimer || this.#scheduler.size === 0) return;
    this.#holdTimer = setTimeout(() => { this.#holdTimer = undefined; this.#drain(); }, Math.max(0, since + hold - Date.now()));
  }

  /** Closes queued connections (the listener is closed and no worker will take them). */
  abandonQueue(): void {
    for (const q of this.#queue) this.#closeQueued(q.socket);
    this.#queue = [];
  }

  #drain(): void {
    while (this.#queue.length > 0) {
      const head = this.#queue[0]!;
      if (head.socket.destroyed) { this.#queue.shift(); continue; }
      const now = Date.now();
      const socket = head.socket;
      // remoteAddress costs a getpeername(2); only ip-hash reads it, so it is looked up on demand.
      const ctx = { get remoteAddress() { return socket.remoteAddress; }, now, waitedMs: now - head.since };
      const load = this.#scheduler.pick(ctx, this.#canTake);
      const w = load && this.#workers.get(load.id);
      if (!w) { this.#armHold(head.since); break; }
      this.#queue.shift();
      this.#handoff(w, head.socket);
    }
    this.#armTimer();
  }

  #handoff(w: WorkerProcess, socket: net.Socket): void {
    const id = ++this.#seq;
    this.#pending.set(id, { socket, worker: w });
    w.load.pending++;
    w.load.conns++;
    this.stats.handedOff++;
    // The raw handle travels as 'net.Native': node keeps our copy open (like keepOpen) until we close it on ack.
    const handle = (socket as unknown as { _handle: unknown })._handle;
    w.send({ shoal: 'conn', id }, handle, (err) => {
      if (err) this.#log.debug({ worker: w.id, err: err.message }, 'handoff failed to send; the socket is re-dispatched when the worker exits');
    });
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
        this.#closeQueued(this.#queue.shift()!.socket);
        expired++;
      }
      if (expired > 0) {
        this.stats.queueTimeouts += expired;
        this.#log.error({ connections: expired, queueTimeoutMs: this.#opts.queueTimeoutMs }, 'no worker could take these connections in time; closed them');
      }
      this.#armTimer();
    }, wait);
  }

  /**
   * Closes a connection no worker will serve. Reading and discarding what the
   * client sent first makes close() send a FIN, not the RST that unread data
   * in the receive buffer would cause.
   */
  #closeQueued(socket: net.Socket): void {
    socket.resume();
    socket.end();
    setTimeout(() => socket.destroy(), CLOSE_LINGER_MS).unref();
  }
}
