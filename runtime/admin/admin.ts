/**
 * The admin server with what it serves, as the primary wires it: bound
 * first (a bad address fails the start before any worker forks), then given
 * the cluster's views once the primary has built them. The primary imports
 * this module (and so prom-client) only when --admin is set.
 */
import fs from 'node:fs';
import type { Logger } from 'pino';
import { DashboardFeed } from '../dashboard/feed.js';
import { loadStatic } from '../dashboard/static.js';
import { eventStream } from '../dashboard/stream.js';
import { AppMetricsCollector } from '../metrics/app-metrics.js';
import { CONTENT_TYPE, Scraper } from '../metrics/scrape.js';
import type { HttpTotals } from '../metrics/totals.js';
import type { ShoalOptions } from '../options.js';
import type { ClusterModel, ClusterState } from '../primary/cluster-state.js';
import type { WorkerProcess } from '../primary/worker-process.js';
import { actionRoutes, type ActionOps } from './actions.js';
import { adminRoutes, HEALTH_PATHS, type AdminViews } from './routes.js';
import { startAdminServer, type AdminServer } from './server.js';

export interface ServedParts {
  readonly model: ClusterModel;
  readonly status: () => Promise<ClusterState>;
  readonly workers: () => readonly WorkerProcess[];
  readonly http: HttpTotals;
  readonly actions: ActionOps;
}

export interface Admin {
  readonly url: string;
  /** Takes the workers' answers to scrapes (the supervisor passes them on). */
  readonly collector: AppMetricsCollector;
  serve(parts: ServedParts): void;
  close(): Promise<void>;
}

function shoalVersion(): string {
  try {
    return (JSON.parse(fs.readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch { return 'unknown'; }
}

export async function openAdmin(opts: ShoalOptions & { admin: NonNullable<ShoalOptions['admin']> }, log: Logger): Promise<Admin> {
  const collector = new AppMetricsCollector(opts.scrapeTimeoutMs);
  let views: AdminViews | undefined;
  let feed: DashboardFeed | undefined;
  let actions: ActionOps | undefined;
  const enabled = opts.adminToken !== undefined;
  const server: AdminServer = await startAdminServer({
    host: opts.admin.host, port: opts.admin.port, token: opts.adminToken,
    requestTimeoutMs: opts.adminRequestTimeoutMs, headersTimeoutMs: opts.adminHeadersTimeoutMs, maxHeaderBytes: opts.adminMaxHeaderBytes,
  }, {
    get: adminRoutes(() => views, loadStatic()),
    open: HEALTH_PATHS,
    post: actionRoutes(enabled, () => actions),
    stream: new Map([['/events', eventStream(() => feed, { actions: enabled, version: shoalVersion() })]]),
  }, log);
  log.info({ url: server.url, token: enabled }, 'admin server listening');
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
      // A sample must not outlive its interval: the probe of the workers gets half of it at most.
      const probeTimeoutMs = Math.min(opts.statusProbeTimeoutMs, Math.ceil(opts.dashboardIntervalMs / 2));
      feed = new DashboardFeed({
        snapshot: () => parts.model.snapshot(),
        read: () => parts.model.read({ probeTimeoutMs, cluster: parts.model.shared, hostsTimeoutMs: probeTimeoutMs }),
        durationsBySlot: () => parts.http.durationsBySlot(),
      }, { intervalMs: opts.dashboardIntervalMs, historyMs: opts.dashboardHistoryMs, onError: (e) => log.error({ err: e.message }, 'dashboard sample failed') });
      actions = parts.actions;
    },
    close: () => { feed?.close(); return server.close(); },
  };
}
