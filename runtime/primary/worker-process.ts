/**
 * One worker process as the primary sees it: the child, its status (changed
 * in one place that logs `from -> to`, as ioredis does) and its load numbers.
 */
import { fork, type ChildProcess } from 'node:child_process';
import type { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { WorkerLoad } from '../scheduler/types.js';
import type { ShoalError } from '../errors.js';
import { dispatch, ENV, type Handlers, type ToPrimary, type ToWorker } from '../ipc/messages.js';
import type { Outputs, WorkerOutput } from '../logs/outputs.js';

/** starting -> ready -> draining -> exited; starting -> exited on a failed start. */
export type WorkerStatus = 'starting' | 'ready' | 'draining' | 'exited';

export interface ForkSpec {
  readonly entry: string;
  readonly appArgs: readonly string[];
  readonly execArgv: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  /** Where the worker's stdout and stderr go: the log buffer, and on to the primary's own streams. */
  readonly output: Outputs;
}

/**
 * How a handed-off connection's delivery ends: `received` when node's own
 * receipt for its handle came back (the worker holds a descriptor of it
 * now), not when the write failed (the handle never left).
 */
export type Settle = (w: WorkerProcess, id: number, received: boolean) => void;

/** A handle sent and not yet receipted: a connection's (`id` > 0, with its settle) or another's. */
interface Awaiting { readonly id: number; readonly settle: Settle | undefined }

/** The window `status` computes requests/s over. */
const RPS_WINDOW_MS = 1_000;

export class WorkerProcess {
  readonly id: number;
  readonly slot: number;
  readonly child: ChildProcess;
  readonly load: WorkerLoad;
  readonly startedAt = Date.now();
  #status: WorkerStatus = 'starting';
  readonly #log: Logger;
  /** Its stdout and stderr; stderr is held back until the worker is ready, so a failed start prints its error once, not per retry. */
  readonly #output: WorkerOutput;
  otherPorts: string[] = [];
  /** When the worker last sent anything: its event loop turned then. */
  lastHeard = Date.now();
  /** Out of rotation because it stopped answering (hung), since when. */
  hungSince: number | undefined;
  /** A graceful replacement (memory limit) is under way. */
  replacing = false;
  /** Retiring, but to be replaced when it exits (the app closed its own server). */
  replaceOnExit = false;
  fatal: { message: string; stack?: string } | undefined;
  /** The failure was shoal's finding, with its own code (a port mismatch): reported as that error. */
  fatalError: ShoalError | undefined;
  /** The app listens (or called ready() under --wait-ready). */
  appReady = false;
  /** The host's sessions have reached this worker (sess-synced). Routable once both hold. */
  sessionsSynced = false;
  requestsDone = 0;
  rss = 0;
  /** Completed-request counts as reported, with when they arrived, for requests/s over the last second. */
  readonly #doneLog: { at: number; n: number }[] = [];
  /**
   * Handles sent and not yet receipted, oldest first. Node passes handles
   * over a channel one at a time: the receiver answers each with a
   * NODE_HANDLE_ACK (NACK when the descriptor did not arrive) before the
   * next is written, so receipts come back in the order of this list.
   */
  readonly #awaiting: Awaiting[] = [];
  /**
   * A receipt came back from this worker: node's handle receipts can be
   * read here, and a connection counts as delivered at its receipt (the
   * worker is told to stop acknowledging each one itself). Until then, and
   * for good where they never come (an undocumented event of node's), the
   * worker's own `ack` does it.
   */
  receipts = false;

  constructor(id: number, slot: number, weight: number, spec: ForkSpec, log: Logger, onMessage: Handlers<ToPrimary, [WorkerProcess, unknown]>) {
    this.id = id;
    this.slot = slot;
    this.#log = log.child({ worker: id });
    this.load = { id, weight, conns: 0, pending: 0, inflight: 0, elu: 0, readyAt: 0 };
    this.child = fork(spec.entry, [...spec.appArgs], {
      execArgv: [...spec.execArgv],
      env: { ...spec.env, [ENV.workerId]: String(id) },
      // stdout too goes through the primary: to keep its last lines for `shoal logs`, and to tag it
      // with the worker's id on a terminal.
      stdio: ['inherit', 'pipe', 'pipe', 'ipc'],
      serialization: 'json',
      // Not detached: a worker stays in the primary's session and process group, as node:cluster's
      // and PM2's do. A session of its own (setsid) is also a scheduling group of its own where the
      // kernel groups tasks by session (autogroup: on by default, for tasks outside CPU cgroups).
      // Measured there: on one core shared with node:cluster's workers, shoal's got a third of
      // their CPU time and served 0.2x their keep-alive rate (0.94x without the session). What a
      // terminal sends the whole group (Ctrl-C, a hang-up) the worker shim ignores: the primary
      // acts on it.
      // A worker whose primary is gone exits on its IPC 'disconnect'.
      detached: false,
    });
    this.#output = spec.output.open(id);
    const { stdout, stderr } = this.#output;
    this.child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk)).once('end', () => stdout.end());
    this.child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk)).once('end', () => stderr.end());
    // Its lines join those of exited workers at its exit, not at 'close': a process the app started
    // may hold the pipes open long after. What comes later is still recorded, under this worker.
    this.child.once('exit', () => this.#output.log.close());
    this.child.on('message', (msg, handle) => { this.lastHeard = Date.now(); dispatch(onMessage, msg, this, handle); });
    // Node's own channel traffic ('internalMessage', undocumented): only the receipts of our handles are read.
    (this.child as EventEmitter).on('internalMessage', (m: { cmd?: unknown } | null) => {
      if (m?.cmd === 'NODE_HANDLE_ACK') this.#receipt(true);
      else if (m?.cmd === 'NODE_HANDLE_NACK') this.#receipt(false);
    });
    // EPIPE/ECHANNELCLOSED when sending to a dying worker surface here; the 'exit' handler does the cleanup.
    this.child.on('error', (err) => this.#log.debug({ err: err.message }, 'worker channel error'));
  }

  get pid(): number | undefined { return this.child.pid; }

  /** Records `n` requests completed (from a load report). */
  countDone(n: number, now = Date.now()): void {
    this.requestsDone += n;
    if (n > 0) this.#doneLog.push({ at: now, n });
    while (this.#doneLog.length > 0 && this.#doneLog[0]!.at < now - RPS_WINDOW_MS) this.#doneLog.shift();
  }

  /** Requests completed per second over the last RPS_WINDOW_MS. */
  requestsPerSecond(now = Date.now()): number {
    let sum = 0;
    for (const e of this.#doneLog) if (e.at >= now - RPS_WINDOW_MS) sum += e.n;
    return Math.round((sum * 1000) / RPS_WINDOW_MS);
  }
  get status(): WorkerStatus { return this.#status; }

  setStatus(to: WorkerStatus): void {
    const from = this.#status;
    if (from === to) return;
    this.#status = to;
    this.#log.debug({ from, to }, `worker ${from} -> ${to}`);
    if (to === 'ready') this.releaseStderr();
  }

  send(msg: ToWorker, handle?: unknown, cb?: (err: Error | null) => void): boolean {
    if (!this.child.connected) {
      if (cb) process.nextTick(cb, new Error('worker disconnected'));
      return false;
    }
    if (handle !== undefined) return this.#sendHandle(msg, handle, { id: 0, settle: undefined }, cb);
    // A callback costs a process.nextTick per message (node calls it after a synchronous write
    // too); without one, a failed write is emitted as 'error', which is logged above.
    return cb ? this.child.send(msg, cb) : this.child.send(msg);
  }

  /**
   * Hands connection `id` over; `settle` runs once, at its receipt or when
   * the write fails. False when the worker's channel is closed (nothing sent,
   * `settle` never runs).
   */
  sendConn(id: number, handle: unknown, settle: Settle): boolean {
    if (!this.child.connected) return false;
    return this.#sendHandle({ shoal: 'conn', id }, handle, { id, settle });
  }

  #sendHandle(msg: ToWorker, handle: unknown, entry: Awaiting, cb?: (err: Error | null) => void): boolean {
    // Every handle send has a callback: a failed write must leave the list, or the receipts of
    // the handles after it would be read as its own. The callback runs a tick later at the
    // earliest, and a receipt comes with I/O later still, so the entry is listed after the call
    // (a send that throws lists nothing).
    const ok = this.child.send(msg, handle as never, (err) => {
      if (err) {
        const i = this.#awaiting.indexOf(entry);
        if (i >= 0) this.#awaiting.splice(i, 1);
        entry.settle?.(this, entry.id, false);
      }
      cb?.(err);
    });
    this.#awaiting.push(entry);
    return ok;
  }

  #receipt(received: boolean): void {
    const entry = this.#awaiting.shift();
    if (!entry) return;
    if (received && !this.receipts) {
      this.receipts = true;
      this.send({ shoal: 'receipts' });
    }
    // A NACK'd connection is not settled: the worker, which got the message without its
    // descriptor, refuses it, and the primary's copy goes to another worker.
    if (received) entry.settle?.(this, entry.id, true);
  }

  /** What the worker wrote to stderr before it became ready (to explain a failed start). */
  heldStderr(): string { return this.#output.stderr.held(); }

  /** Stops holding stderr back: print what was held and pass the rest straight through. */
  releaseStderr(print = true): void { this.#output.stderr.release(print); }
}
