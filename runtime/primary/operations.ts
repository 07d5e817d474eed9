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
import type { SessionHub } from '../session/hub.js';
import type { RedisLink } from '../session/redis/link.js';
import { redactUrl } from '../session/redis/link-options.js';
import type { Dispatcher } from './dispatcher.js';
import type { KernelAccept } from './kernel-accept.js';
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

/** What the operations act on and report. */
export interface OperationsParts {
  readonly supervisor: Supervisor;
  readonly dispatcher: Dispatcher;
  readonly hub: SessionHub;
  readonly log: Logger;
  readonly link?: RedisLink | undefined;
  readonly kernel?: KernelAccept | undefined;
  /** The served port's address, once bound. */
  readonly address: () => { port: number } | undefined;
}

export class Operations {
  readonly #opts: ShoalOptions;
  readonly #supervisor: Supervisor;
  readonly #dispatcher: Dispatcher;
  readonly #hub: SessionHub;
  readonly #link: RedisLink | undefined;
  readonly #kernel: KernelAccept | undefined;
  readonly #log: Logger;
  readonly #address: OperationsParts['address'];
  readonly #startedAt = Date.now();
  #busy: string | undefined;

  constructor(opts: ShoalOptions, parts: OperationsParts) {
    this.#opts = opts;
    this.#log = parts.log;
    this.#kernel = parts.kernel;
    this.#address = parts.address;
    const { supervisor, dispatcher, hub, link } = parts;
    this.#hub = hub;
    this.#link = link;
    this.#supervisor = supervisor;
    this.#dispatcher = dispatcher;
  }

  async #exclusive<T>(what: string, fn: () => Promise<T>): Promise<T> {
    if (this.#busy) throw new ShoalError('SHOAL_ERR_BUSY', this.#busy);
    this.#busy = what;
    try { return await fn(); } finally { this.#busy = undefined; }
  }

  /** The cluster's state; session figures come from each worker's own replica (waits up to statusProbeTimeoutMs for them). */
  async status(cluster = false): Promise<Record<string, unknown>> {
    if (cluster && !this.#link) throw new ShoalError('SHOAL_ERR_NO_REDIS');
    const replicas = await this.#hub.probe(this.#opts.statusProbeTimeoutMs);
    const now = Date.now();
    const hub = this.#hub.stats();
    const hosts = cluster ? await this.#link!.hosts() : undefined;
    return {
      ...(hosts ? { hosts } : {}),
      primary: {
        pid: process.pid,
        name: this.#opts.name,
        uptimeMs: now - this.#startedAt,
        balancer: this.#opts.balancer,
        accept: this.#kernel?.mode ?? 'handoff',
        ...(this.#kernel?.fallback ? { acceptFallback: this.#kernel.fallback } : {}),
        kernelAccepted: this.#kernel?.accepted ?? 0,
        port: this.#address()?.port ?? null,
        queued: this.#dispatcher.queued,
        unacknowledged: this.#dispatcher.unacknowledged,
        operation: this.#busy ?? null,
        ...this.#dispatcher.stats,
        sessions: { sessions: hub.sessions, bytes: hub.bytes, expired: hub.expired, evicted: hub.evicted, dropped: hub.dropped },
        redis: this.#link ? { url: redactUrl(this.#opts.redisUrl!), prefix: this.#opts.redisPrefix, mode: this.#opts.sessionsMode, host: this.#link.hostId, ...this.#link.stats() } : null,
      },
      workers: this.#supervisor.slots.map((s) => {
        const w = s.worker;
        return {
          slot: s.n,
          id: w?.id ?? null,
          pid: w?.pid ?? null,
          state: s.givenUp ? 'failed' : w?.status ?? 'restarting',
          uptimeMs: w ? now - w.startedAt : 0,
          restarts: s.restarts,
          connections: w?.load.conns ?? 0,
          ...(w && this.#kernel?.pausedOf(w) !== undefined ? { acceptPaused: this.#kernel.pausedOf(w) } : {}),
          inflight: w?.load.inflight ?? 0,
          rps: w ? w.requestsPerSecond(now) : 0,
          elu: w ? Math.round(w.load.elu * 1000) / 1000 : 0,
          rssBytes: w?.rss ?? 0,
          sessions: (w && replicas.get(w.id)) ?? null,
          ...(s.lastError ? { error: s.lastError } : {}),
        };
      }),
    };
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
      this.#log.info(result, 'reload done');
      return result;
    } catch (e) {
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
