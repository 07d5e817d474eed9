/**
 * A /metrics scrape: the cluster's state and the app's metrics from every
 * ready worker, gathered side by side within the scrape timeout, merged by
 * prom-client (AggregatorRegistry.aggregate() honours each metric's
 * `aggregator`) and printed in the Prometheus text format.
 *
 * Scrapes never pile up on the workers: one that arrives while another runs
 * gets that one's result, so a flood of scrapes costs the workers one
 * round at a time.
 */
import client from 'prom-client';
import type { ClusterModel } from '../primary/cluster-state.js';
import type { WorkerProcess } from '../primary/worker-process.js';
import type { AppMetricsCollector } from './app-metrics.js';
import { shoalMetrics } from './shoal-metrics.js';

export const CONTENT_TYPE = client.Registry.PROMETHEUS_CONTENT_TYPE;

export interface ScrapeParts {
  readonly model: ClusterModel;
  readonly collector: AppMetricsCollector;
  /** The workers of the slots now (the supervisor's). */
  readonly workers: () => readonly WorkerProcess[];
  readonly timeoutMs: number;
}

export class Scraper {
  readonly #p: ScrapeParts;
  #running: Promise<string> | undefined;

  constructor(parts: ScrapeParts) {
    this.#p = parts;
  }

  /** The metrics text; shares the scrape under way, if any. */
  scrape(): Promise<string> {
    this.#running ??= this.#scrape().finally(() => { this.#running = undefined; });
    return this.#running;
  }

  async #scrape(): Promise<string> {
    const { model, collector, timeoutMs } = this.#p;
    const ready = this.#p.workers().filter((w) => w.status === 'ready');
    // A worker known not to answer (its event loop is blocked) is not waited for.
    const ask = ready.filter((w) => w.hungSince === undefined);
    const [state, app] = await Promise.all([
      model.read({ probeTimeoutMs: timeoutMs, cluster: model.shared, hostsTimeoutMs: timeoutMs }),
      collector.collect(ask, ready.length - ask.length),
    ]);
    const registry = client.AggregatorRegistry.aggregate([shoalMetrics(state, collector.errors), ...app]);
    return registry.metrics();
  }
}
