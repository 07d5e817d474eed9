/**
 * Keeps N workers alive: forks them, marks them routable when ready,
 * restarts the ones that exit with exponential backoff, and gives up on a
 * slot whose worker keeps failing to start (a crash loop).
 *
 * A slot is a place in the cluster (1..N); each process filling it gets a
 * new worker id, so logs never confuse a replacement with its predecessor.
 */
import os from 'node:os';
import type { Logger } from 'pino';
import { startFailure } from '../control/app-site.js';
import { ShoalError } from '../errors.js';
import type { ShoalOptions } from '../options.js';
import type { Handlers, ToPrimary } from '../ipc/messages.js';
import { HttpTotals } from '../metrics/totals.js';
import { restartDelay } from './backoff.js';
import type { SessionHub } from '../session/hub.js';
import { isSessionKey } from '../session/validate.js';
import type { Dispatcher } from './dispatcher.js';
import type { TcpHandle } from './tcp-handle.js';
import type { AcceptControl } from './kernel-accept.js';
import { portRequests, type PortControl } from './port-requests.js';
import { readyTimedOut, uncaughtLine, watchOtherPort } from './start-checks.js';
import { WorkerProcess, type ForkSpec } from './worker-process.js';

export interface Slot {
  readonly n: number;
  worker: WorkerProcess | undefined;
  /** Consecutive exits before ready (start failures) or before stableAfterMs. */
  failures: number;
  /** Restarts after unexpected exits, for status. */
  restarts: number;
  givenUp: boolean;
  /** Why the slot was given up (crash loop), for status. */
  lastError: string | undefined;
  timer: NodeJS.Timeout | undefined;
}

interface Waiter { resolve: () => void; reject: (e: Error) => void }

export interface SupervisorEvents {
  /** Every slot has a ready worker for the first time. */
  allReady(): void;
  /** The cluster cannot run: the first start failed, or every slot gave up. */
  fatal(err: ShoalError, detail: string): void;
  /** A worker's answer to a metrics scrape (only when the admin server runs). */
  metrics?(w: WorkerProcess, m: Extract<ToPrimary, { shoal: 'metrics' }>): void;
}

/**
 * Why a worker was started in place of another that stopped without being
 * asked to (reloads and scaling are not restarts): it exited or was killed
 * after it was ready (crash), before (start), shoal killed it for not
 * answering (hang), it grew over --max-memory (memory), or the app closed its
 * own server (app-close).
 */
export const RESTART_REASONS = ['crash', 'start', 'hang', 'memory', 'app-close'] as const;
export type RestartReason = (typeof RESTART_REASONS)[number];

/** The shell's view of an exit: the code, or 128 + the signal number. */
export const exitCodeOf = (code: number | null, signal: NodeJS.Signals | null): number | null =>
  code ?? (signal ? 128 + (os.constants.signals[signal] ?? 0) : null);

/** What the supervisor works with. */
export interface SupervisorParts {
  readonly dispatcher: Dispatcher;
  readonly hub: SessionHub;
  readonly events: SupervisorEvents;
  readonly ports: PortControl;
  readonly accept?: AcceptControl | undefined;
}

export class Supervisor {
  readonly #opts: ShoalOptions;
  readonly #spec: ForkSpec;
  readonly #log: Logger;
  readonly #dispatcher: Dispatcher;
  readonly #hub: SessionHub;
  readonly #events: SupervisorEvents;
  readonly #slots: Slot[] = [];
  readonly #handlers: Handlers<ToPrimary, [WorkerProcess, unknown]>;
  /** Every worker's HTTP figures, per slot, from the load reports. */
  readonly http = new HttpTotals();
  readonly #exits = new Map<WorkerProcess, Promise<void>>();
  readonly #readyWaiters = new Map<WorkerProcess, Waiter>();
  /** Workers started to replace another (reload): a failed start is reported, not restarted. */
  readonly #replacements = new WeakSet<WorkerProcess>();
  #nextId = 1;
  #everReady = false;
  /** The cluster's start is over (every first slot was ready once or gave up): workers that join from now on ramp up. */
  #started = false;
  #stopping = false;
  readonly #accept: AcceptControl | undefined;
  /** Restarts since the cluster started, by reason (only grows: slots scaled away keep theirs here). */
  readonly #restarts = Object.fromEntries(RESTART_REASONS.map((r) => [r, 0])) as Record<RestartReason, number>;

  constructor(opts: ShoalOptions, spec: ForkSpec, log: Logger, parts: SupervisorParts) {
    const { dispatcher, hub, events, ports, accept } = parts;
    this.#opts = opts;
    this.#accept = accept;
    this.#hub = hub;
    this.#spec = spec;
    this.#log = log;
    this.#dispatcher = dispatcher;
    this.#events = events;
    const d = dispatcher;
    this.#handlers = {
      listening: (_m, w) => { if (!opts.waitReady) { w.appReady = true; this.#ready(w); } },
      ready: (_m, w) => { if (opts.waitReady) { w.appReady = true; this.#ready(w); } },
      'sess-synced': (_m, w) => { w.sessionsSynced = true; this.#ready(w); },
      'sess-write': (m, w) => hub.write(w, m.seq, m.t, m.changes),
      'sess-stats': (m, w) => hub.answer(w, m.probe, m.stats),
      'sess-fetch': (m, w) => { if (isSessionKey(m.id)) hub.fetch(w, m.req, m.id, typeof m.min === 'string' ? m.min : undefined); },
      ack: (m, w) => d.ack(w, m.id, m.closed),
      refuse: (m, w, handle) => d.refuse(w, m.id, m.reason, handle as TcpHandle | undefined),
      load: (m, w) => {
        d.closed(w, m.closed);
        // The worker's own count is exact; handoffs it has not acknowledged yet are not in it.
        w.load.conns = m.conns + w.load.pending;
        w.load.inflight = m.inflight;
        w.load.elu = m.elu;
        w.countDone(m.done);
        w.rss = m.rss;
        if (m.http) this.http.add(w.slot, m.http);
        this.#accept?.reported(w, m.paused, m.accepted);
        d.loadChanged(w);
      },
      echo: (m, w, handle) => this.#accept?.echoed(w, m.tag, handle),
      unaccepted: (_m, w) => this.#accept?.unaccepted(w),
      unlisten: (_m, w) => {
        if (w.status === 'draining') return;
        // The app closed its server on its own: this worker will never serve again. Let it finish
        // what it has and exit, and start a replacement when it does.
        this.#log.warn({ worker: w.id }, 'the app closed its server; retiring this worker and starting a replacement');
        d.removeWorker(w);
        w.replaceOnExit = true;
        w.setStatus('draining');
        w.send({ shoal: 'stop', timeoutMs: opts.stopTimeoutMs });
      },
      'other-listen': (m, w) => { watchOtherPort(w, m.port, opts, log); },
      ...portRequests(ports, (e) => this.#events.fatal(e, '')),
      metrics: (m, w) => this.#events.metrics?.(w, m),
      fatal: (m, w) => { w.fatal = { message: m.message, ...(m.stack ? { stack: m.stack } : {}) }; },
    };
  }

  get workers(): WorkerProcess[] {
    return this.#slots.flatMap((s) => (s.worker ? [s.worker] : []));
  }

  get slots(): readonly Slot[] { return this.#slots; }

  /** The cluster is stopping (from the first step of a stop to the end). */
  get stopping(): boolean { return this.#stopping; }

  get restartsByReason(): Readonly<Record<RestartReason, number>> { return { ...this.#restarts }; }

  /** Counts a restart this class does not start itself (health.ts replaces a worker over its memory limit). */
  countRestart(reason: RestartReason): void { this.#restarts[reason]++; }

  start(): void {
    for (let n = 1; n <= this.#opts.workers; n++) this.addSlot();
  }

  /** A new slot with a worker starting in it. */
  addSlot(): Slot {
    const n = (this.#slots.at(-1)?.n ?? 0) + 1;
    const slot: Slot = { n, worker: undefined, failures: 0, restarts: 0, givenUp: false, lastError: undefined, timer: undefined };
    this.#slots.push(slot);
    this.#fill(slot);
    return slot;
  }

  /**
   * Starts a worker in `slot`. A fork can fail outright (EMFILE, EAGAIN: the
   * host is out of descriptors or processes): then it is tried again after
   * the restart backoff, as a worker that failed to start would be.
   */
  #fill(slot: Slot): void {
    try {
      this.#spawn(slot);
    } catch (e) {
      slot.timer = undefined;
      slot.failures++;
      const delay = restartDelay(slot.failures, this.#opts.restartDelayMs, this.#opts.restartDelayMaxMs);
      this.#log.error({ slot: slot.n, err: (e as Error).message, delayMs: delay }, 'could not start a worker; trying again');
      if (!this.#stopping && this.#slots.includes(slot)) slot.timer = setTimeout(() => this.#fill(slot), delay);
    }
  }

  /** Takes the last slot away (its worker is not restarted); the caller retires its worker. */
  removeLastSlot(): Slot | undefined {
    const slot = this.#slots.pop();
    if (slot?.timer) clearTimeout(slot.timer);
    return slot;
  }

  /** Resolves when `w` is ready; rejects with the reason (a StartFailure) when it exits or times out first. */
  readyOf(w: WorkerProcess): Promise<void> {
    if (w.status === 'ready') return Promise.resolve();
    if (w.status !== 'starting') return Promise.reject(startFailure(w.fatal?.message ?? 'the worker exited', w.fatal?.stack, w.heldStderr()));
    return new Promise((resolve, reject) => { this.#readyWaiters.set(w, { resolve, reject }); });
  }

  /**
   * Starts a worker that will take over `slot` once ready; the current one
   * keeps serving meanwhile. Rejects (and leaves the slot as it was) when the
   * new worker fails to start.
   */
  async replace(slot: Slot): Promise<{ old: WorkerProcess | undefined; fresh: WorkerProcess }> {
    // A restart pending for this slot would fill it twice.
    if (slot.timer) { clearTimeout(slot.timer); slot.timer = undefined; }
    const fresh = this.#spawn(slot, true);
    await this.readyOf(fresh);
    const old = slot.worker;
    slot.worker = fresh;
    slot.givenUp = false;
    slot.lastError = undefined;
    slot.failures = 0;
    return { old, fresh };
  }

  /** Takes `w` out of rotation, lets it drain, and resolves when it has exited (killed past the stop timeout). */
  async retire(w: WorkerProcess, timeoutMs = this.#opts.stopTimeoutMs): Promise<void> {
    this.#dispatcher.removeWorker(w);
    const exit = this.#exits.get(w);
    if (!exit) return;
    if (w.status === 'starting') { w.setStatus('draining'); w.child.kill('SIGKILL'); await exit; return; }
    w.setStatus('draining');
    w.send({ shoal: 'stop', timeoutMs });
    // The worker bounds its own drain by timeoutMs; this is the backstop for one that cannot.
    const kill = setTimeout(() => {
      this.#log.warn({ worker: w.id, timeoutMs }, 'worker did not finish in time; killing it');
      w.child.kill('SIGKILL');
    }, timeoutMs + KILL_GRACE_MS);
    await exit;
    clearTimeout(kill);
  }

  #spawn(slot: Slot, replacing = false): WorkerProcess {
    slot.timer = undefined;
    const w = new WorkerProcess(this.#nextId++, slot.n, this.#opts.weights[slot.n - 1] ?? 1, this.#spec, this.#log, this.#handlers);
    if (replacing) this.#replacements.add(w);
    else slot.worker = w;
    this.#log.info({ worker: w.id, workerPid: w.pid, slot: slot.n }, 'worker forked');
    this.#hub.attach(w);
    this.#accept?.spawned(w);
    const readyTimer = setTimeout(() => readyTimedOut(w, this.#opts, this.#log), this.#opts.readyTimeoutMs);
    this.#exits.set(w, new Promise((resolve) => {
      w.child.once('exit', (code, signal) => {
        // The worker's last messages (its `fatal`) and its last stderr lines can still be on
        // their way when 'exit' fires: 'close' comes once the IPC channel and stdio have closed.
        // A grandchild that keeps the worker's stdio open must not hold things up for long.
        let handled = false;
        const handle = (): void => {
          if (handled) return;
          handled = true;
          clearTimeout(wait);
          clearTimeout(readyTimer);
          this.#hub.detach(w);
          this.#accept?.exited(w);
          this.#exited(slot, w, code, signal);
          this.#exits.delete(w);
          resolve();
        };
        const wait = setTimeout(handle, CLOSE_AFTER_EXIT_MS);
        w.child.once('close', handle);
      });
    }));
    return w;
  }

  /** Routable once the app is ready and the host's sessions have arrived, whichever comes last. */
  #ready(w: WorkerProcess): void {
    if (w.status !== 'starting' || !w.appReady || !w.sessionsSynced) return;
    w.setStatus('ready');
    this.#log.info({ worker: w.id, workerPid: w.pid, ms: Date.now() - w.startedAt }, 'worker ready');
    this.#dispatcher.addWorker(w, this.#started);
    this.#checkStarted();
    this.#readyWaiters.get(w)?.resolve();
    this.#readyWaiters.delete(w);
    if (!this.#everReady && this.#slots.every((s) => s.worker?.status === 'ready')) {
      this.#everReady = true;
      this.#events.allReady();
    }
  }

  /** Ends the start phase once every slot of the first start was ready once or gave up. */
  #checkStarted(): void {
    if (!this.#started && this.#slots.every((s) => s.givenUp || s.worker?.status === 'ready')) this.#started = true;
  }

  #exited(slot: Slot, w: WorkerProcess, code: number | null, signal: NodeJS.Signals | null): void {
    const wasStarting = w.status === 'starting';
    const retiring = w.status === 'draining' && !w.replaceOnExit;
    w.setStatus('exited');
    this.#dispatcher.workerGone(w);
    if (slot.worker === w) slot.worker = undefined;
    const lived = Date.now() - w.startedAt;
    const info = { worker: w.id, workerPid: w.pid, code, signal, exitCode: exitCodeOf(code, signal), livedMs: lived };
    const why = w.fatal?.message ?? uncaughtLine(w.heldStderr()) ?? (signal ? `killed by ${signal}` : `exit code ${code}`);
    const waiter = this.#readyWaiters.get(w);
    this.#readyWaiters.delete(w);
    // Before the held stderr is released below: where the app failed is read from it.
    if (waiter) waiter.reject(startFailure(why, w.fatal?.stack, w.heldStderr()));
    if (this.#stopping || retiring) { this.#log.info(info, 'worker exited'); return; }
    if (wasStarting && this.#replacements.has(w)) {
      this.#log.warn(info, 'replacement worker exited before it was ready');
      w.releaseStderr();
      return;
    }
    // The slot was scaled away, or already belongs to this worker's replacement: nothing to restart.
    if (!this.#slots.includes(slot) || slot.worker !== undefined) { this.#log.info(info, 'worker exited'); return; }
    this.#log.warn(info, wasStarting ? 'worker exited before it was ready' : 'worker exited unexpectedly');
    if (wasStarting && !this.#everReady) {
      // The very first start failed: almost always a bug in the entry (syntax error, missing module).
      // Report it once and stop rather than retrying N workers into the same error.
      this.#events.fatal(w.fatalError ?? new ShoalError('SHOAL_ERR_WORKER_STARTUP', why), w.heldStderr());
      return;
    }
    slot.failures = lived >= this.#opts.stableAfterMs ? 1 : slot.failures + 1;
    if (wasStarting && slot.failures >= this.#opts.maxStartFailures) {
      slot.givenUp = true;
      slot.lastError = why;
      const err = new ShoalError('SHOAL_ERR_CRASH_LOOP', String(slot.n), String(slot.failures), why);
      this.#log.error({ slot: slot.n, code: err.code }, err.message);
      w.releaseStderr();
      this.#checkStarted();
      // The primary lives on: accepted connections wait in its queue (up to the queue timeout),
      // `status` shows the failed slots, and `shoal reload` with fixed code fills them again.
      if (this.#slots.every((s) => s.givenUp)) this.#log.error('no worker can serve: fix the app, then run shoal reload');
      return;
    }
    w.releaseStderr();
    slot.restarts++;
    this.#restarts[w.replaceOnExit ? 'app-close' : w.hungSince !== undefined ? 'hang' : wasStarting ? 'start' : 'crash']++;
    const delay = restartDelay(slot.failures, this.#opts.restartDelayMs, this.#opts.restartDelayMaxMs);
    this.#log.info({ slot: slot.n, delayMs: delay, attempt: slot.failures }, 'restarting worker');
    slot.timer = setTimeout(() => this.#fill(slot), delay);
  }

  /** The cluster is stopping: a worker that exits from now on is not replaced. */
  beginStop(): void {
    this.#stopping = true;
    for (const s of this.#slots) if (s.timer) clearTimeout(s.timer);
  }

  /** Retires every worker: stop taking connections, finish in flight, exit; killed after the timeout. */
  async stopAll(timeoutMs: number, force = false): Promise<void> {
    this.beginStop();
    const all = [...this.#exits.keys()];
    if (force) for (const w of all) { this.#dispatcher.removeWorker(w); w.child.kill('SIGKILL'); }
    await Promise.all(all.map((w) => this.retire(w, timeoutMs)));
  }
}

/** How long after a worker's exit its channel and stdio may take to close before the exit is handled anyway. */
const CLOSE_AFTER_EXIT_MS = 1_000;

/** Extra time past the stop timeout before a retiring worker is killed (it exits itself at the timeout). */
const KILL_GRACE_MS = 1_000;
