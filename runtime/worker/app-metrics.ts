/**
 * The app's own prom-client metrics, read in the worker when the primary
 * scrapes: every registry the app passed to `metrics.register()`, and
 * prom-client's default registry if the app has prom-client loaded.
 *
 * The default registry is found without the app doing anything: prom-client
 * is resolved from the app's entry (as the app's own import would resolve
 * it), once, at the first scrape (nothing is done at start-up), and read
 * only if that module is already in the module cache. shoal never loads
 * prom-client into an app that does not use it (an ESM import of it fills
 * the same cache: prom-client is CommonJS).
 */
import { createRequire } from 'node:module';
import { within } from '../within.js';
import type { WorkerState } from './state.js';

/** What the worker needs of a prom-client Registry. */
export interface MetricsSource { getMetricsAsJSON(): Promise<unknown[]> | unknown[] }

const isSource = (v: unknown): v is MetricsSource =>
  typeof v === 'object' && v !== null && typeof (v as { getMetricsAsJSON?: unknown }).getMetricsAsJSON === 'function';

export class AppMetrics {
  readonly #state: WorkerState;
  readonly #entry: string | undefined;
  /** prom-client's main file as the app would load it; null when the app cannot resolve it; undefined before the first scrape. */
  #promClient: string | null | undefined;
  /** The primary's scrape timeout when it scrapes (--admin): it bounds the final snapshot. */
  readonly #timeoutMs: number | undefined;
  #lastReq = 0;

  constructor(state: WorkerState, entry: string | undefined, scrapeTimeoutMs: number | undefined) {
    this.#state = state;
    this.#entry = entry;
    this.#timeoutMs = scrapeTimeoutMs;
  }

  /** The default registry of the app's prom-client, if the app has loaded it. */
  #defaultRegistry(): MetricsSource | undefined {
    if (this.#entry === undefined) return undefined;
    const req = createRequire(this.#entry);
    if (this.#promClient === undefined) {
      try { this.#promClient = req.resolve('prom-client'); } catch { this.#promClient = null; }
    }
    if (this.#promClient === null) return undefined;
    const loaded = req.cache[this.#promClient]?.exports as { register?: unknown } | undefined;
    return isSource(loaded?.register) ? loaded.register : undefined;
  }

  /** Every registry's metrics, as prom-client's getMetricsAsJSON() gives them, in one list. */
  async collect(): Promise<unknown[]> {
    const sources = new Set<MetricsSource>(this.#state.registries);
    const d = this.#defaultRegistry();
    if (d) sources.add(d);
    const lists = await Promise.all([...sources].map(async (s) => s.getMetricsAsJSON()));
    return lists.flat();
  }

  /** Answers the primary's scrape `req`. */
  answer(req: number): void {
    this.#lastReq = req;
    this.collect().then(
      (metrics) => this.#state.send({ shoal: 'metrics', req, metrics }),
      (e: unknown) => this.#state.send({ shoal: 'metrics', req, metrics: null, error: e instanceof Error ? e.message : String(e) }),
    );
  }

  /**
   * Before a graceful exit: the counters as they end, so the primary keeps
   * what was counted since its last scrape (or all of it, if none reached
   * this worker). Only when the primary scrapes, bounded by its scrape
   * timeout; resolves once sent (or given up).
   */
  async final(): Promise<void> {
    const timeoutMs = this.#timeoutMs;
    if (timeoutMs === undefined || !process.send || !process.connected) return;
    const metrics = await within(this.collect(), timeoutMs);
    if (metrics === undefined) return;
    await new Promise<void>((resolve) => {
      process.send!({ shoal: 'metrics', req: this.#lastReq, metrics, final: true }, undefined, {}, () => resolve());
    });
  }
}
