/**
 * Kernel accept, the worker's side: this worker's descriptor of the shared
 * listening socket, and the gate that decides whether it takes part in the
 * kernel's accept contest right now.
 *
 *   accepting  --accept makes key > floor + slack-->  paused (the kernel
 *       ^                                              queues for the others)
 *       '--a close, a floor, a request ending------------'
 *
 * The decision uses this worker's own counts, which are always fresh, and
 * the floor the primary last sent (the least loaded worker's key). A pause
 * that lasts PAUSE_REPORT_MS is reported at once, so the primary can raise
 * the floor when every worker sits out (most pauses end sooner, with a
 * close, and cost the primary nothing). If the floor stays put for holdMs while paused
 * (its setter may be blocked, so the floor is stale), the acceptor opens
 * for one holdMs window anyway: a connection never waits on a stale floor
 * for longer than that.
 *
 * Pausing is libuv's accept watcher switched off with readStop(), checked
 * to work at start-up by the primary (runtime/primary/accept-probe.ts).
 */
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import type { AcceptParams } from '../ipc/messages.js';
import { mayAccept } from '../scheduler/gate.js';
import { effectiveWeight } from '../scheduler/weight.js';
import type { Intake } from './intake.js';
import type { WorkerState } from './state.js';

interface RawHandle {
  listen(backlog: number): number;
  readStart(): number;
  readStop(): number;
  close(): void;
  onconnection: ((status: number, client?: unknown) => void) | null;
}
/** libuv reports errors as negative errno. */
const { EMFILE, ENFILE } = os.constants.errno;

const BACKLOG = 511;

/**
 * A pause still on after this long is reported at once. Under connection
 * churn most pauses end within a connection's lifetime; reporting each one
 * woke the primary about once every seven connections. In a burst every
 * worker takes two connections, pauses and waits for a higher floor, so
 * this wait is paid once per step of the burst: at 2 ms, 50 connections at
 * once over 2 workers took up to 90 ms to be answered (node:cluster RR:
 * 20-40 ms). 1 ms, the shortest timer, is the next turn of the loop that
 * is at least a millisecond on, which a pause ended in the same turn never
 * reaches.
 */
export const PAUSE_REPORT_MS = 1;

export class Acceptor {
  readonly #intake: Intake;
  readonly #state: WorkerState;
  #handle: RawHandle | undefined;
  #params: AcceptParams | undefined;
  #readyAt = 0;
  #floor = Infinity;
  #paused = false;
  /** libuv's reading flag on the handle: readStop() only acts when it is set. */
  #reading = false;
  /** A window opened past a stale floor (see the file comment). */
  #open = false;
  #timer: NodeJS.Timeout | undefined;
  #reportTimer: NodeJS.Timeout | undefined;
  #requestCheck: NodeJS.Immediate | undefined;
  /** Times this acceptor paused, for tests and status. */
  pauses = 0;

  constructor(intake: Intake, state: WorkerState) {
    this.#intake = intake;
    this.#state = state;
    intake.onLoad = () => this.evaluate();
    intake.paused = () => this.paused;
  }

  /** Whether this worker holds a descriptor of the shared socket. */
  get active(): boolean { return this.#handle !== undefined; }
  /** Whether it sits out of the accept contest right now. */
  get paused(): boolean { return this.#handle !== undefined && this.#paused; }

  /** Starts accepting from `handle` (a descriptor of the shared socket). False when it cannot listen. */
  start(handle: unknown, params: AcceptParams, floor: number): boolean {
    this.stop();
    const h = handle as RawHandle | undefined;
    if (!h) return false;
    if (this.#state.draining) { h.close(); return false; }
    h.onconnection = (status, client) => {
      if (status === 0 && client) this.#intake.acceptFromKernel(client);
      // Out of descriptors below the budget: the app holds the rest. Take no more than now.
      else if (status === -EMFILE || status === -ENFILE) this.#intake.budget = Math.max(1, this.#intake.connections);
      this.evaluate();
    };
    if (h.listen(BACKLOG) !== 0) { h.onconnection = null; h.close(); return false; }
    this.#handle = h;
    this.#params = params;
    // Only least-load's gate looks at requests in flight; least-conn's would be work on every request for nothing.
    this.#intake.onRequest = params.balancer === 'least-load' ? this.#requestMoved : undefined;
    this.#intake.kernel = true;
    this.#floor = floor;
    this.#readyAt = performance.now() - (params.slowStartMs - params.rampMs);
    this.#paused = false;
    this.#reading = false;
    this.#open = false;
    this.evaluate();
    return true;
  }

  /** Closes this worker's descriptor; the socket and its queue live on in the others. */
  stop(): void {
    const h = this.#handle;
    if (!h) return;
    this.#handle = undefined;
    this.#intake.onRequest = undefined;
    this.#intake.kernel = false;
    this.#clearTimer();
    if (this.#reportTimer) { clearTimeout(this.#reportTimer); this.#reportTimer = undefined; }
    if (this.#requestCheck) { clearImmediate(this.#requestCheck); this.#requestCheck = undefined; }
    h.onconnection = null;
    h.close();
  }

  setFloor(floor: number): void {
    this.#floor = floor;
    // A new floor: whatever was waited on it so far does not count, and an open window closes.
    this.#open = false;
    this.#clearTimer();
    this.evaluate();
    if (this.#paused) this.#armHold();
  }

  /**
   * least-load: a request started or ended. Decided once, at the end of
   * this turn of the loop, not on every start and end: under keep-alive load
   * a turn serves a batch of requests and deciding on each flipped the
   * acceptor (readStop/readStart, its timers, the pause reports) over a
   * thousand times a second for nothing, about 7 % of a worker's requests
   * (side by side against least-conn: 0.92 deciding on each, 0.985 not
   * looking at requests at all). Nothing is lost by waiting for the turn's
   * end: while a handler runs the loop accepts nothing anyway, and a request
   * still in flight then (one that awaits) is what the gate must see.
   */
  readonly #requestMoved = (): void => {
    this.#requestCheck ??= setImmediate(this.#decideRequests);
  };
  readonly #decideRequests = (): void => {
    this.#requestCheck = undefined;
    this.evaluate();
  };

  /** Re-decides after anything that moves this worker's load (an accept, a close, a request edge, a floor). */
  evaluate(): void {
    const h = this.#handle;
    if (!h) return;
    const want = this.#mayAccept();
    if (want === !this.#paused) return;
    if (want) {
      h.readStart();
      this.#reading = true;
      this.#paused = false;
      if (!this.#open) this.#clearTimer();
      if (this.#reportTimer) { clearTimeout(this.#reportTimer); this.#reportTimer = undefined; }
      return;
    }
    if (!this.#reading) h.readStart();
    h.readStop();
    this.#reading = false;
    this.#paused = true;
    this.pauses++;
    this.#reportTimer ??= setTimeout(() => { this.#reportTimer = undefined; if (this.#paused) this.#intake.reportSoon(); }, PAUSE_REPORT_MS);
    this.#armHold();
  }

  /** Paused on one floor for holdMs: open for one holdMs window, then decide again. */
  #armHold(): void {
    if (this.#timer) return;
    this.#arm(() => {
      this.#open = true;
      this.evaluate();
      this.#arm(() => { this.#open = false; this.evaluate(); });
    });
  }

  #mayAccept(): boolean {
    const p = this.#params!;
    if (!this.#state.servers[0] || this.#state.draining || this.#intake.full) return false;
    if (this.#open) return true;
    const weight = effectiveWeight({ weight: p.weight, readyAt: this.#readyAt }, performance.now(), p.slowStartMs);
    const i = this.#intake;
    return mayAccept(p.balancer, { conns: i.connections, inflight: i.inflight, elu: i.elu, pending: 0 }, weight, this.#floor, p.slack);
  }

  #arm(fn: () => void): void {
    this.#clearTimer();
    this.#timer = setTimeout(() => { this.#timer = undefined; fn(); }, this.#params!.holdMs);
    this.#timer.unref();
  }

  #clearTimer(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
