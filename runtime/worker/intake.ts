/**
 * Connection intake and load accounting in the worker.
 *
 * A connection arrives as a raw TCP handle, either handed off by the
 * primary with a { shoal: 'conn' } message (node's receipt of the handle
 * tells the primary to close its copy) or accepted by this worker from the
 * shared socket (kernel accept, acceptor.ts). Either way it is wrapped in a
 * net.Socket (adopt.ts) and 'connection' is emitted on the app's server
 * synchronously: data is delivered in a later I/O phase, so no byte can be
 * missed (an async gap here would lose the first bytes).
 */
import type net from 'node:net';
import type http from 'node:http';
import { performance } from 'node:perf_hooks';
import { socketOf } from './adopt.js';
import { HttpStats } from './http-stats.js';
import { OpenResponses } from './open-responses.js';
import type { WorkerState } from './state.js';

interface ServerInternals { _connections: number; maxConnections?: number }

/**
 * Busy and idle edges (a request starting on an idle worker, the last one
 * ending) are reported at once, but each at most once per this many ms: a
 * worker serving a request every millisecond would otherwise send two
 * messages per request, which costs the primary real CPU.
 */
export const EDGE_REPORT_MIN_MS = 5;

/** The shortest window event-loop utilisation is measured over (see report()). */
export const ELU_MIN_WINDOW_MS = 50;

/**
 * In kernel accept a load report goes out at most this often (besides a
 * pause that lasts): the primary only derives the floor from them, each
 * worker gates on its own fresh counts, and every report wakes the primary.
 */
export const KERNEL_REPORT_MS = 25;

/**
 * How long a change in requests alone (one starting or ending) may wait
 * for its report where the balancer does not read requests: it moves only
 * the figures (status, metrics, the dashboard), which are read per second.
 */
export const REQUEST_REPORT_MS = 100;

/** In kernel accept, the shortest wait of a batch that nothing urgent opened (see #changed()). */
export const KERNEL_LEAD_MS = 2;

/**
 * Resident memory is read at most this often (it costs a read of
 * /proc/self/stat): the memory limit acts on it, and a second is quick
 * enough for that and for status.
 */
export const RSS_EVERY_MS = 1_000;

export class Intake {
  readonly #state: WorkerState;
  #closed = 0;
  #done = 0;
  #inflight = 0;
  /** Responses not yet finished, with when each request started (open-responses.ts says why not a Map). */
  readonly #open = new OpenResponses();
  #elu = performance.eventLoopUtilization();
  #eluAt = performance.now();
  #eluValue = 0;
  #lastInflight = -1;
  #quietTicks = 0;
  #lastReportAt = 0;
  #lastBusyAt = 0;
  #lastIdleAt = 0;
  /** When the last request in flight ended (-Infinity: none yet). */
  #idleSince = -Infinity;
  #connections = 0;
  /** Connections taken from the shared socket since the last report (kernel accept). */
  #accepted = 0;
  #lastPaused = false;
  #soon: NodeJS.Immediate | undefined;
  /** Per-request status classes and durations, sent with the reports. */
  readonly #http = new HttpStats();
  /** Called when a connection of this worker closes (the acceptor's gate re-decides). */
  onLoad: () => void = () => {};
  /** Called when a request starts or ends: only least-load's gate looks at requests. */
  onRequest: (() => void) | undefined;
  /**
   * Busy and idle edges are reported at once only where someone acts on
   * them at once: least-load's handoff holds a connection for the first
   * idle worker. Elsewhere, and in kernel accept (the gate reads the
   * worker's own counts), they wait for the next batch like any change.
   */
  #edges: boolean;
  readonly #edgesByDefault: boolean;
  #windowMs: number;
  /** Kernel accept on or off in this worker: no edges, and the longer batch window (KERNEL_REPORT_MS). */
  set kernel(on: boolean) {
    this.#edges = !on && this.#edgesByDefault;
    this.#windowMs = on ? Math.max(this.#intervalMs, KERNEL_REPORT_MS) : this.#handoffWindowMs;
  }
  #rss = 0;
  #rssAt = -Infinity;
  /** Whether the acceptor sits out, for the report. */
  paused: () => boolean = () => false;
  /** Conditions someone waits for; checked whenever a request or a connection ends. */
  readonly #waiters: { cond: () => boolean; resolve: () => void }[] = [];
  #scheduled: NodeJS.Timeout | NodeJS.Immediate | undefined;
  /** When the scheduled report fires (performance.now()): a more urgent change brings it forward. */
  #dueAt = 0;
  readonly #fire = (): void => { this.#scheduled = undefined; this.report(0); };
  readonly #intervalMs: number;
  readonly #handoffWindowMs: number;

  /**
   * `windowMs`: the batch window outside kernel accept, longer than the
   * interval where the balancer reads nothing of the reports (primary.ts,
   * FIGURES_REPORT_MS).
   */
  constructor(state: WorkerState, intervalMs: number, edges = true, windowMs = intervalMs) {
    this.#state = state;
    this.#intervalMs = intervalMs;
    this.#handoffWindowMs = windowMs;
    this.#windowMs = windowMs;
    this.#edges = edges;
    this.#edgesByDefault = edges;
    const intake = this;
    this.#onClose = function onClose(this: http.ServerResponse): void { intake.#ended(this); };
  }

  /**
   * Something changed: report it soon. Leading-edge throttle: when the last
   * report is older than the window, report on the next turn of the loop (a
   * quiet worker's close reaches the primary at once, so it does not look
   * busier than it is); otherwise the change waits for the end of the window
   * and rides in one batch with the others.
   *
   * A request starting or ending (`request`) moves only the figures where
   * the balancer does not look at requests (all but least-load): there it
   * waits for the longer REQUEST_REPORT_MS. Under keep-alive load nothing
   * else changes, and reporting every request batch at the connection window
   * cost the worker an IPC write and the primary a wake-up every few
   * milliseconds for figures nobody reads that often.
   */
  #changed(request = false): void {
    // Anything already on its way goes no later than a request's report would (its window is the longest).
    if (request && this.#scheduled) return;
    const now = performance.now();
    const window = request && !this.#requestsMatter ? Math.max(this.#windowMs, REQUEST_REPORT_MS) : this.#windowMs;
    let wait = this.#lastReportAt + window - now;
    // In kernel accept no change is urgent (a pause reports itself): a new connection's report
    // waits a little, so that its first request, which usually follows at once, is the batch.
    if (!this.#edges && wait < KERNEL_LEAD_MS) wait = KERNEL_LEAD_MS;
    const due = now + Math.max(0, wait);
    if (this.#scheduled) {
      if (this.#dueAt <= due) return;
      this.#cancelScheduled();
    }
    this.#dueAt = due;
    this.#scheduled = wait <= 0 ? setImmediate(this.#fire) : setTimeout(this.#fire, wait);
  }


  /** Whether the balancer reads requests in flight: least-load (its edges in handoff, its gate in kernel accept). */
  get #requestsMatter(): boolean { return this.#edgesByDefault || this.onRequest !== undefined; }

  /**
   * The periodic report, for a quiet worker (its utilisation must not go
   * stale): nothing when a report is already on its way.
   */
  tick(idleEvery: number): void {
    if (this.#scheduled) return;
    this.report(idleEvery);
  }

  #cancelScheduled(): void {
    const t = this.#scheduled;
    this.#scheduled = undefined;
    if (t) { clearTimeout(t as NodeJS.Timeout); clearImmediate(t as NodeJS.Immediate); }
  }

  /**
   * A request started on an idle worker. Report it now, synchronously, when
   * the throttle allows: the IPC write reaches the pipe before the app's
   * handler runs, so even a handler that then blocks the event loop for a
   * long time has told the primary it is busy (a report scheduled for later
   * could not leave until the handler is done). `now`: the request's start.
   */
  #busy(now: number): void {
    if (this.#inflight !== 1) return;
    if (!this.#edges) {
      // Nothing waits for the edge (kernel accept). But the first request after a quiet spell is
      // reported before its handler runs, so that a worker blocking in it shows it in flight;
      // under load (never idle that long) requests wait for the batch.
      if (now - this.#idleSince < this.#windowMs) { this.#changed(true); return; }
      this.#cancelScheduled();
      this.report(0);
      return;
    }
    // Its own throttle: it must not hold back the report of this request's end, which is what
    // tells the primary the worker is free again. Throttled, it goes out with the next batch.
    if (now - this.#lastBusyAt < EDGE_REPORT_MIN_MS) { this.#changed(true); return; }
    this.#lastBusyAt = now;
    this.report(0, false);
  }

  get inflight(): number { return this.#inflight; }
  /** Connections this worker took (from the primary or the shared socket) and that are still open. */
  get connections(): number { return this.#connections; }
  /** Event-loop utilisation as last measured (see report()). */
  get elu(): number { return this.#eluValue; }

  /**
   * Reports on the next turn, outside the throttle: the acceptor paused, and
   * the primary must hear of it soon (it may need to raise the floor).
   */
  reportSoon(): void {
    this.#soon ??= setImmediate(() => { this.#soon = undefined; this.report(0, false); });
  }

  /** Resolves once `cond` holds, checked now and after every request or connection that ends. */
  until(cond: () => boolean): Promise<void> {
    if (cond()) return Promise.resolve();
    return new Promise((resolve) => { this.#waiters.push({ cond, resolve }); });
  }

  #settle(): void {
    for (let i = this.#waiters.length - 1; i >= 0; i--) {
      const w = this.#waiters[i]!;
      if (w.cond()) { this.#waiters.splice(i, 1); w.resolve(); }
    }
  }

  /**
   * Counts requests of an adopted server, and marks them Connection: close
   * while draining. This runs for every request, so it allocates nothing per
   * request (#open keeps its entries in an array): the 'request' listener and every
   * response's 'close' listener are made once (a closure and a once()
   * wrapper per request showed in the workers' profiles under keep-alive).
   */
  track(server: net.Server): void {
    server.prependListener('request', this.#onRequest);
  }

  readonly #onRequest = (_req: http.IncomingMessage, res: http.ServerResponse): void => {
    this.#inflight++;
    if (this.#state.draining) res.shouldKeepAlive = false;
    const now = performance.now();
    this.#open.add(res, now);
    this.#busy(now);
    this.onRequest?.();
    // 'close' is emitted once per response, so on() leaves nothing behind.
    res.on('close', this.#onClose);
  };

  /** A response's 'close' listener: `this` is the response (a function, not an arrow, for that). */
  readonly #onClose: (this: http.ServerResponse) => void;

  #ended(res: http.ServerResponse): void {
    const now = performance.now();
    this.#http.end(this.#open.remove(res) ?? now, res, now);
    this.#inflight--;
    this.#done++;
    this.onRequest?.();
    if (this.#inflight === 0) this.#idleSince = now;
    // Idle again: say so at once (a primary may be holding a connection for the first idle
    // worker); other changes wait for the throttle.
    if (this.#edges && this.#inflight === 0 && now - this.#lastIdleAt >= EDGE_REPORT_MIN_MS) {
      this.#lastIdleAt = now;
      this.report(0, false);
    } else {
      this.#changed(true);
    }
    if (this.#waiters.length > 0) this.#settle();
  }

  /** From now on every response closes its connection once sent. */
  markDraining(): void {
    for (const res of this.#open) if (!res.headersSent) res.shouldKeepAlive = false;
  }

  /**
   * Connections this worker may hold (connectionBudget(): below its file
   * descriptor limit); lowered to what it holds when an accept fails with
   * EMFILE anyway (the app's own descriptors took the rest).
   */
  budget: number | undefined;

  /** At the app's maxConnections, or at the descriptor budget: take no more until one closes. */
  get full(): boolean {
    const s = this.#state.servers[0] as unknown as ServerInternals | undefined;
    return (s?.maxConnections != null && s._connections >= s.maxConnections) || (this.budget !== undefined && this.#connections >= this.budget);
  }

  /**
   * Whether each handoff is acknowledged with an `ack`: until the primary
   * says it reads node's own receipts of the handles (`receipts`).
   */
  acks = true;

  /** Handles a handoff: serves it (acknowledged first, see `acks`), or refuses it so the primary hands it to another worker. */
  accept(id: number, handle: unknown): void {
    const server = this.#state.servers[0];
    // A message without its handle: the descriptor could not be received (EMFILE): full for now.
    const full = this.full || !handle;
    if (!server || this.#state.draining || full) {
      const h = handle as { close(): void } | undefined;
      // The primary may have closed its copy at the receipt: the connection goes back with the refusal.
      this.#state.send({ shoal: 'refuse', id, reason: full && !this.#state.draining ? 'full' : 'closed' }, h, () => h?.close());
      return;
    }
    if (this.acks) this.#state.send({ shoal: 'ack', id, closed: this.#takeClosed() });
    this.#adopt(server, handle);
  }

  /**
   * A connection this worker accepted from the shared socket. Draining
   * workers have closed their acceptor, but one accepted in the same turn as
   * the stop is still ours to serve (with Connection: close).
   */
  acceptFromKernel(handle: unknown): void {
    const server = this.#state.servers[0];
    this.#accepted++;
    if (!server) { (handle as { close(): void }).close(); return; }
    this.#adopt(server, handle);
    this.#changed();
  }

  #adopt(server: net.Server, handle: unknown): void {
    const socket = socketOf(server, handle);
    this.#connections++;
    // 'close' is emitted once per socket, so on() with one shared listener leaves nothing behind.
    socket.on('close', this.#onSocketClose);
    server.emit('connection', socket);
  }

  readonly #onSocketClose = (): void => {
    this.#closed++;
    this.#connections--;
    this.#changed();
    this.#settle();
    this.onLoad();
  };

  #takeClosed(): number {
    const n = this.#closed;
    this.#closed = 0;
    return n;
  }

  /**
   * One batched load report (also run by a periodic timer), or nothing when there is nothing new: closes
   * since the last report, requests in flight, requests done, and event-loop
   * utilisation. A quiet worker still reports every `idleEvery` ticks so the
   * primary's view of its ELU does not go stale. `throttled` false: an
   * out-of-band report (a request starting) that does not count against the
   * throttle window.
   */
  report(idleEvery = 10, throttled = true): void {
    const paused = this.paused();
    const changed = this.#closed > 0 || this.#done > 0 || this.#accepted > 0 || this.#inflight !== this.#lastInflight || paused !== this.#lastPaused;
    if (!changed && ++this.#quietTicks < idleEvery) return;
    // ELU over a window of at least ELU_MIN_WINDOW_MS: edge reports come every few ms, often
    // right after the loop woke from a wait, and a window that short reads as idle however busy
    // the worker is. A shorter one repeats the last figure.
    const now = performance.now();
    if (now - this.#eluAt >= ELU_MIN_WINDOW_MS) {
      this.#eluValue = performance.eventLoopUtilization(this.#elu).utilization;
      this.#elu = performance.eventLoopUtilization();
      this.#eluAt = now;
    }
    if (throttled) this.#lastReportAt = now;
    this.#quietTicks = 0;
    this.#lastInflight = this.#inflight;
    this.#lastPaused = paused;
    const done = this.#done;
    this.#done = 0;
    const accepted = this.#accepted;
    this.#accepted = 0;
    if (now - this.#rssAt >= RSS_EVERY_MS) {
      this.#rssAt = now;
      // It opens /proc/self/stat: out of descriptors (EMFILE) it throws. The last figure stands.
      try { this.#rss = process.memoryUsage.rss(); } catch { /* kept */ }
    }
    // Every counted response also counts in `done`, so its figures never wait for a quiet tick.
    const http = this.#http.take();
    this.#state.send({
      shoal: 'load', closed: this.#takeClosed(), inflight: this.#inflight, done, elu: this.#eluValue, rss: this.#rss,
      conns: this.#connections, accepted, paused, ...(http ? { http } : {}),
    });
  }
}
