/**
 * Kernel accept (issue 12): the routable workers accept from the shared
 * listening socket themselves, each gating its own acceptor by load, and
 * the primary leaves the connection path.
 *
 *   primary: binds once, keeps a descriptor for life
 *     |  accept{params,floor} + socket handle   (when a worker becomes routable)
 *     |  floor                                  (when the least loaded key changes:
 *     |                                          at once to the paused workers, else
 *     |                                          at most once per floorEveryMs)
 *     |  unaccept                               (out of rotation, stop)
 *     v
 *   worker: accepts while key(own load) <= floor + slack   (scheduler/gate.ts)
 *     |  load{conns, paused, ...}               (batched, as before)
 *     v
 *   primary: floor = min key over accepting workers
 *
 * The primary's work grows with load reports, not with connections. It
 * accepts itself (and hands off, as in handoff mode) only while no worker
 * accepts: during start-up, when every worker is gone or hung, and while
 * stopping, so a connection in the kernel queue is always taken by someone.
 *
 * Pausing relies on behaviour node does not document, so the mode starts
 * with a self-test (accept-probe.ts) and falls back to the handoff if it
 * fails, saying so in the log.
 */
import type { Logger } from 'pino';
import type { AcceptParams, EchoTag } from '../ipc/messages.js';
import { acceptKey, roundFloor, type GateBalancer } from '../scheduler/gate.js';
import { effectiveWeight } from '../scheduler/weight.js';
import { SelfTest, type SelfTestResult } from './accept-selftest.js';
import type { Dispatcher, RoutingObserver } from './dispatcher.js';
import type { Listener } from './listener.js';
import type { TcpHandle } from './tcp-handle.js';
import type { WorkerProcess } from './worker-process.js';

export type AcceptMode = 'kernel' | 'handoff';

export interface KernelAcceptOptions {
  readonly balancer: GateBalancer;
  readonly slack: number;
  readonly holdMs: number;
  readonly slowStartMs: number;
  /** How long stop waits for the workers to close their descriptors before it kills the ones still holding one. */
  readonly unacceptTimeoutMs: number;
  /**
   * The floor goes to the workers at most this often (a paused worker gets a
   * higher one at once): at low concurrency the least loaded key moves with
   * nearly every report, and a message to every worker each time would make
   * the primary's work grow with connections again.
   */
  readonly floorEveryMs: number;
  /** The start-up self-test (accept-probe.ts); a unit test passes one that fails. */
  readonly probe?: (copy: TcpHandle) => Promise<string | undefined>;
}

/** What the supervisor tells the controller about workers it does not route yet. */
export interface AcceptControl {
  spawned(w: WorkerProcess): void;
  exited(w: WorkerProcess): void;
  echoed(w: WorkerProcess, tag: EchoTag, handle: unknown): void;
  unaccepted(w: WorkerProcess): void;
  reported(w: WorkerProcess, paused: boolean, accepted: number): void;
}

interface Acceptor { paused: boolean; accepted: number; floor: number }

type State = 'probing' | 'on' | 'off';

export class KernelAccept implements RoutingObserver, AcceptControl {
  readonly #opts: KernelAcceptOptions;
  #listener: Listener | undefined;
  readonly #dispatcher: Dispatcher;
  readonly #log: Logger;
  #state: State = 'probing';
  readonly #test: SelfTest;
  #fallback: string | undefined;
  /** Workers that were sent `accept` and not yet `unaccept`: they take part in the accept contest. */
  readonly #acceptors = new Map<WorkerProcess, Acceptor>();
  /**
   * Descriptors of the shared socket each worker may still hold: accepts
   * sent minus `unaccepted` answers. Stop closes the primary's descriptor
   * only once no worker holds one, so that the primary's is the last.
   */
  readonly #held = new Map<WorkerProcess, number>();
  #onReleased: (() => void) | undefined;
  #floorTimer: NodeJS.Immediate | NodeJS.Timeout | undefined;
  #floorSentAt = -Infinity;
  #stopping = false;
  /** Connections the workers took from the shared socket, reported in their loads. */
  #accepted = 0;

  constructor(opts: KernelAcceptOptions, dispatcher: Dispatcher, log: Logger) {
    this.#opts = opts;
    this.#dispatcher = dispatcher;
    this.#log = log;
    this.#test = new SelfTest((r) => this.#tested(r), opts.probe);
    dispatcher.observe(this);
  }

  /** The mode in force: kernel once the self-test passed; handoff before, and after a failed one. */
  get mode(): AcceptMode { return this.#state === 'on' ? 'kernel' : 'handoff'; }
  get fallback(): string | undefined { return this.#fallback; }
  get accepted(): number { return this.#accepted; }
  /** Whether the worker's acceptor sits out (over its share), as it last reported. */
  pausedOf(w: WorkerProcess): boolean | undefined { return this.#acceptors.get(w)?.paused; }

  // ---- the self-test (accept-selftest.ts)

  /** The served port is bound (at start, or when the app first listened): the self-test can run. */
  serve(listener: Listener): void {
    this.#listener = listener;
    this.#test.serve(listener);
  }

  spawned(w: WorkerProcess): void { this.#test.spawned(w); }
  echoed(w: WorkerProcess, tag: EchoTag, handle: unknown): void { this.#test.echoed(w, tag, handle); }

  exited(w: WorkerProcess): void {
    this.#test.exited(w);
    this.#forget(w);
    this.#release(w, Infinity);
  }

  #tested(r: SelfTestResult): void {
    if (!r.ok) { this.#fail(r.why); return; }
    if (!this.#listener!.adopt(r.copy)) { this.#fail('the echoed descriptor of the port would not listen'); return; }
    this.#state = 'on';
    this.#log.info({ accept: 'kernel', balancer: this.#opts.balancer }, 'accept mode: kernel (workers accept from the shared socket, gated by load)');
    for (const x of this.#dispatcher.workers) this.added(x);
    this.#updateOwn();
  }

  #fail(why: string): void {
    this.#state = 'off';
    this.#fallback = why;
    this.#log.warn({ accept: 'handoff', reason: why }, `kernel accept is not available here (${why}); the primary accepts every connection and hands it over (handoff)`);
  }

  // ---- routing: which workers accept

  added(w: WorkerProcess): void {
    if (this.#state !== 'on' || this.#stopping || this.#acceptors.has(w) || !this.#listener) return;
    const floor = this.#computeFloor([...this.#acceptors.keys(), w]);
    this.#acceptors.set(w, { paused: false, accepted: 0, floor });
    const now = Date.now();
    const params: AcceptParams = {
      balancer: this.#opts.balancer,
      weight: w.load.weight,
      slack: this.#opts.slack,
      slowStartMs: this.#opts.slowStartMs,
      rampMs: Math.max(0, Math.min(this.#opts.slowStartMs, w.load.readyAt + this.#opts.slowStartMs - now)),
      holdMs: this.#opts.holdMs,
    };
    w.send({ shoal: 'accept', params, floor }, this.#listener.handle);
    this.#held.set(w, (this.#held.get(w) ?? 0) + 1);
    // The newcomer may be the least loaded now: the others hear of the new floor.
    this.#scheduleFloor();
    this.#updateOwn();
  }

  removed(w: WorkerProcess): void {
    if (!this.#acceptors.has(w)) return;
    w.send({ shoal: 'unaccept' });
    this.#forget(w);
  }

  unaccepted(w: WorkerProcess): void {
    this.#release(w, 1);
    // Still meant to accept, yet holding nothing: its `accept` failed (the descriptor would not listen).
    if (this.#acceptors.has(w) && !this.#held.has(w)) {
      this.#log.error({ worker: w.id }, 'worker could not listen on its descriptor of the port; it takes no connection from the kernel');
      this.#forget(w);
    }
  }

  #release(w: WorkerProcess, n: number): void {
    const left = (this.#held.get(w) ?? 0) - n;
    if (left > 0) { this.#held.set(w, left); return; }
    this.#held.delete(w);
    if (this.#held.size === 0) this.#onReleased?.();
  }

  loadChanged(w: WorkerProcess): void {
    if (!this.#acceptors.has(w)) return;
    // Paused workers may be waiting for a higher floor (every worker paused: nobody accepts), and
    // the report that raises it may come from another worker: in a burst all of them pause in
    // turn, and one left for the throttled broadcast waited up to floorEveryMs per step.
    const floor = this.#computeFloor();
    for (const [v, b] of this.#acceptors) if (b.paused) this.#sendFloor(v, b, floor);
    this.#scheduleFloor(floor);
  }

  /** From a worker's load report: its acceptor's state and what it took since the last report. */
  reported(w: WorkerProcess, paused: boolean, accepted: number): void {
    this.#accepted += accepted;
    const a = this.#acceptors.get(w);
    if (!a) return;
    a.paused = paused;
    a.accepted += accepted;
  }

  #forget(w: WorkerProcess): void {
    if (!this.#acceptors.delete(w)) return;
    this.#scheduleFloor();
    this.#updateOwn();
  }

  // ---- the floor

  #computeFloor(workers: Iterable<WorkerProcess> = this.#acceptors.keys(), now = Date.now()): number {
    let floor = Infinity;
    for (const w of workers) {
      const k = acceptKey(this.#opts.balancer, w.load, effectiveWeight(w.load, now, this.#opts.slowStartMs));
      if (k < floor) floor = k;
    }
    return roundFloor(floor);
  }

  #sendFloor(w: WorkerProcess, a: Acceptor, floor: number): void {
    if (floor === a.floor || !Number.isFinite(floor)) return;
    a.floor = floor;
    w.send({ shoal: 'floor', floor });
  }

  /**
   * At most once per floorEveryMs (leading edge), and within a turn once
   * whatever number of reports arrived. Inside the window a timer is armed
   * only when the floor really moved: most reports leave it where it was,
   * and a timer per report would wake the primary for nothing. `floor`:
   * the current one, when the caller has just computed it.
   */
  #scheduleFloor(floor?: number): void {
    if (this.#floorTimer) return;
    const fire = (): void => { this.#floorTimer = undefined; this.#floorSentAt = Date.now(); this.#broadcastFloor(); };
    const wait = this.#floorSentAt + this.#opts.floorEveryMs - Date.now();
    if (wait <= 0) { this.#floorTimer = setImmediate(fire); return; }
    floor ??= this.#computeFloor();
    for (const a of this.#acceptors.values()) {
      if (a.floor !== floor) { this.#floorTimer = setTimeout(fire, wait); return; }
    }
  }

  #broadcastFloor(): void {
    const floor = this.#computeFloor();
    for (const [w, a] of this.#acceptors) this.#sendFloor(w, a, floor);
  }

  // ---- the primary's own acceptor

  #updateOwn(): void {
    if (this.#state !== 'on') return;
    this.#listener?.setAccepting(this.#stopping || this.#acceptors.size === 0);
  }

  /**
   * Before the port closes: the primary accepts again and every worker
   * closes its descriptor of the shared socket, so the primary's is the last
   * one: what waits in the kernel queue is taken by the primary (and handed
   * to a worker) rather than reset when the socket closes. A worker that
   * does not answer within unacceptTimeoutMs (its event loop is blocked) is
   * killed: it would be killed by the stop timeout anyway, and while it
   * holds a descriptor the port cannot close cleanly.
   */
  async stopAccepting(): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    this.#updateOwn();
    for (const w of this.#acceptors.keys()) w.send({ shoal: 'unaccept' });
    this.#acceptors.clear();
    if (this.#held.size === 0) return;
    const released = new Promise<void>((resolve) => { this.#onReleased = resolve; });
    let timer: NodeJS.Timeout | undefined;
    const late = await Promise.race([released.then(() => false), new Promise<boolean>((r) => { timer = setTimeout(() => r(true), this.#opts.unacceptTimeoutMs); })]);
    clearTimeout(timer);
    if (!late) return;
    for (const w of this.#held.keys()) {
      this.#log.warn({ worker: w.id, timeoutMs: this.#opts.unacceptTimeoutMs }, 'worker did not close its descriptor of the port in time (event loop blocked?); killing it so that no waiting connection is reset');
      w.child.kill('SIGKILL');
    }
    await released;
  }
}
