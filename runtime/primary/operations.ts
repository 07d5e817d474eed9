/**
 * What the control commands do to a running cluster: status, scale and the
 * rolling reload. One operation at a time: a second one while another runs
 * is refused with SHOAL_ERR_BUSY, never interleaved.
 *
 * Reload, per worker (one at a time, or `parallel` at once):
 *   start a new worker from the code on disk -> wait until it is ready
 *   -> take the old one out of rotation -> drain it -> it exits
 * If a new worker fails to start, the reload stops there: the old workers
 * keep serving and the error is returned.
 */
import { availableCpus } from '../cpus.js';
import { isShoalError, ShoalError } from '../errors.js';
import type { Logger } from '../log.js';
import type { ShoalOptions } from '../options.js';
import type { StartFailure } from '../control/app-site.js';
import type { ControlEvent } from '../control/protocol.js';
import { Buckets } from '../metrics/totals.js';
import { ClusterModel, type ClusterState, type ModelParts } from './cluster-state.js';
import type { Slot, Supervisor } from './supervisor.js';

/** A message fit for one line (tsx's syntax errors span several). */
const oneLine = (s: string): string => s.replace(/\s*\n\s*/g, ' ').trim();

/**
 * Why `workers` is too many for this host, if it is: past twice the CPUs it
 * may use, workers mostly compete for CPU time. It is done anyway (a worker
 * that mostly waits on I/O may justify a few more), with a warning.
 */
function tooMany(workers: number): string | undefined {
  const cpus = availableCpus();
  if (workers <= 2 * cpus) return undefined;
  return `${workers} workers is more than twice the ${cpus} CPU${cpus === 1 ? '' : 's'} this host lets shoal use: they will compete for CPU time, and one per CPU is usually best`;
}

/** What the operations act on and report: the model's parts (but the options, given apart) and a logger. */
export type OperationsParts = Omit<ModelParts, 'opts'> & { readonly log: Logger };

/** Bounds of the reload duration histogram, seconds: a reload takes each worker's start-up and drain. */
export const RELOAD_BUCKETS = [1, 2.5, 5, 10, 30, 60, 120, 300] as const;

export class Operations {
  readonly #opts: ShoalOptions;
  readonly #supervisor: Supervisor;
  readonly #log: Logger;
  #busy: string | undefined;
  readonly #reloads = { done: 0, failed: 0, refused: 0 };
  readonly #reloadDurations = new Buckets(RELOAD_BUCKETS);
  /** The cluster's state as every view reads it (status, the admin server, the metrics). */
  readonly model: ClusterModel;

  constructor(opts: ShoalOptions, parts: OperationsParts) {
    this.#opts = opts;
    this.#log = parts.log;
    this.#supervisor = parts.supervisor;
    this.model = new ClusterModel({ opts, ...parts }, {
      operation: () => this.#busy ?? null,
      reloads: () => ({ ...this.#reloads, duration: this.#reloadDurations.figures() }),
    });
  }

  async #exclusive<T>(what: string, fn: () => Promise<T>): Promise<T> {
    if (this.#busy) throw new ShoalError('SHOAL_ERR_BUSY', this.#busy);
    this.#busy = what;
    try { return await fn(); } finally { this.#busy = undefined; }
  }

  /** The cluster's state; session figures come from each worker's own replica (waits up to statusProbeTimeoutMs for them). */
  async status(cluster = false): Promise<ClusterState> {
    if (cluster && !this.model.shared) throw new ShoalError('SHOAL_ERR_NO_REDIS');
    return this.model.read({ probeTimeoutMs: this.#opts.statusProbeTimeoutMs, cluster });
  }

  scale(to: string): Promise<Record<string, unknown>> {
    return this.#exclusive('a scale', async () => {
      const current = this.#supervisor.slots.length;
      const target = /^[+-]/.test(to) ? current + Number(to) : Number(to);
      if (!Number.isInteger(target) || target < 1 || target > 1024) {
        throw new ShoalError('SHOAL_ERR_BAD_VALUE', 'scale', to, `a worker count from 1 to 1024 (now ${current})`);
      }
      const warning = tooMany(target);
      if (warning) this.#log.warn({ workers: target, cpus: availableCpus() }, warning);
      const added: Slot[] = [];
      while (this.#supervisor.slots.length < target) added.push(this.#supervisor.addSlot());
      const removed: Slot[] = [];
      while (this.#supervisor.slots.length > target) removed.push(this.#supervisor.removeLastSlot()!);
      const failures: { n: number; e: StartFailure }[] = [];
      await Promise.all([
        ...added.map((s) => (s.worker ? this.#supervisor.readyOf(s.worker) : Promise.reject(Object.assign(new Error('the worker could not be started (see the log); it is tried again'), { app: undefined })))
          .catch((e: StartFailure) => { failures.push({ n: s.n, e }); })),
        ...removed.map((s) => (s.worker ? this.#supervisor.retire(s.worker) : undefined)),
      ]);
      if (failures.length > 0) {
        throw new ShoalError('SHOAL_ERR_WORKER_STARTUP', failures.map((f) => `slot ${f.n}: ${oneLine(f.e.message)}`).join('; ')).withApp(failures[0]!.e.app);
      }
      return { from: current, to: target, ...(warning ? { warning } : {}) };
    });
  }

  /**
   * The rolling reload, whoever asked (SIGHUP or `shoal reload`); its end is
   * logged here, once: `reload done` with the workers replaced and the time
   * taken, or `reload failed` with the reason (a refused one included).
   */
  async reload(parallel: number, progress: (e: ControlEvent) => void): Promise<Record<string, unknown>> {
    const t0 = Date.now();
    const done = { replaced: 0 };
    try {
      const result = { ...await this.#exclusive('a reload', () => this.#reload(parallel, progress, done)), ms: Date.now() - t0 };
      this.#reloads.done++;
      this.#reloadDurations.observe(result.ms / 1000);
      this.#log.info(result, 'reload done');
      return result;
    } catch (e) {
      if (isShoalError(e) && e.code === 'SHOAL_ERR_BUSY') this.#reloads.refused++;
      else { this.#reloads.failed++; this.#reloadDurations.observe((Date.now() - t0) / 1000); }
      const app = isShoalError(e) ? e.app : undefined;
      this.#log.error({ err: (e as Error).message, code: isShoalError(e) ? e.code : undefined, ...(app ? { app } : {}), replaced: done.replaced, ms: Date.now() - t0 }, 'reload failed');
      throw e;
    }
  }

  async #reload(parallel: number, progress: (e: ControlEvent) => void, done: { replaced: number }): Promise<{ replaced: number; workers: number }> {
    const slots = [...this.#supervisor.slots];
    for (let i = 0; i < slots.length; i += parallel) {
      const batch = slots.slice(i, i + parallel);
      const results = await Promise.allSettled(batch.map(async (slot) => {
        progress({ event: 'starting', slot: slot.n, old: slot.worker?.id ?? null });
        const t0 = Date.now();
        const { old, fresh } = await this.#supervisor.replace(slot);
        progress({ event: 'ready', slot: slot.n, worker: fresh.id, ms: Date.now() - t0 });
        if (old) {
          await this.#supervisor.retire(old);
          progress({ event: 'retired', slot: slot.n, worker: old.id });
        }
        done.replaced++;
      }));
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      // The final reply (and the log above) says why; no progress event repeats it.
      if (failed) {
        const e = failed.reason as StartFailure;
        throw new ShoalError('SHOAL_ERR_RELOAD_FAILED', oneLine(e.message)).withApp(e.app);
      }
    }
    return { replaced: done.replaced, workers: this.#supervisor.slots.length };
  }
}
