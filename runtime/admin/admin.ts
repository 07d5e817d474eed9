/**
 * The admin server with what it serves, as the primary wires it: bound
 * first (a bad address fails the start before any worker forks), then given
 * the cluster's views once the primary has built them. The primary imports
 * this module (and so prom-client) only when --admin is set.
 */
import type { Logger } from 'pino';
import { AppMetricsCollector } from '../metrics/app-metrics.js';
import { CONTENT_TYPE, Scraper } from '../metrics/scrape.js';
import type { ShoalOptions } from '../options.js';
import type { ClusterModel, ClusterState } from '../primary/cluster-state.js';
import type { WorkerProcess } from '../primary/worker-process.js';
import { adminRoutes, type AdminViews } from './routes.js';
import { startAdminServer, type AdminServer } from './server.js';

export interface ServedParts {
  readonly model: ClusterModel;
  readonly status: () => Promise<ClusterState>;
  readonly workers: () => readonly WorkerProcess[];
}

export interface Admin {
  readonly url: string;
  /** Takes the workers' answers to scrapes (the supervisor passes them on). */
  readonly collector: AppMetricsCollector;
  serve(parts: ServedParts): void;
  close(): Promise<void>;
}

export async function openAdmin(opts: ShoalOptions & { admin: NonNullable<ShoalOptions['admin']> }, log: Logger): Promise<Admin> {
  const collector = new AppMetricsCollector(opts.scrapeTimeoutMs);
  let views: AdminViews | undefined;
  const server: AdminServer = await startAdminServer({
    host: opts.admin.host, port: opts.admin.port, token: opts.adminToken,
    requestTimeoutMs: opts.adminRequestTimeoutMs, headersTimeoutMs: opts.adminHeadersTimeoutMs, maxHeaderBytes: opts.adminMaxHeaderBytes,
  }, adminRoutes(() => views), log);
  log.info({ url: server.url, token: opts.adminToken !== undefined }, 'admin server listening');
  return {
    url: server.url,
    collector,
    serve(parts) {
      const scraper = new Scraper({ model: parts.model, collector, workers: parts.workers, timeoutMs: opts.scrapeTimeoutMs });
      views = {
        snapshot: () => parts.model.snapshot(),
        status: parts.status,
        metrics: async () => ({ type: CONTENT_TYPE, body: await scraper.scrape() }),
      };
    },
    close: () => server.close(),
  };
}
