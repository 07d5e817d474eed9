/**
 * What the admin server answers, each a view of the cluster's one state
 * (primary/cluster-state.ts); none computes anything of its own.
 *
 *   /         the dashboard (a browser, Accept: text/html); the list of endpoints otherwise
 *   /events   the dashboard's live feed: server-sent events (dashboard/stream.ts)
 *   /assets/  the dashboard's own CSS and scripts
 *   /livez    200 while the primary runs
 *   /readyz   200 while a worker is ready and the cluster is not stopping, else 503;
 *             ?verbose adds the reason
 *   /status   exactly what `shoal status --json` prints
 *   /metrics  Prometheus text: shoal's own metrics and the app's, summed over workers
 *   POST /actions/reload, /actions/scale   the dashboard's buttons, with a token only (actions.ts)
 *   POST /signin   the dashboard's sign-in, with a token only (sign-in.ts)
 *
 * With a token every path needs it but the two health probes (HEALTH_PATHS).
 */
import type { ClusterState } from '../primary/cluster-state.js';
import { readiness } from '../primary/readiness.js';
import type { Reply, Route } from './server.js';
import { text } from './server.js';

export interface AdminViews {
  /** The state now, without asking the workers (cheap: probes call it often). */
  snapshot(): ClusterState;
  /** What `shoal status` gets. */
  status(): Promise<ClusterState>;
  /** The metrics text and its content type. */
  metrics(): Promise<{ type: string; body: string }>;
}

/**
 * Answered without the token: a kubelet's probe cannot read a Secret into
 * its header, and a balancer's check should not carry one; they tell only
 * whether the host serves (as Kubernetes' own /livez and /readyz do).
 */
export const HEALTH_PATHS: ReadonlySet<string> = new Set(['/livez', '/readyz']);

const INDEX = `shoal admin
  /         the dashboard, in a browser
  /events   the dashboard's live feed (server-sent events)
  /livez    200 while the primary runs
  /readyz   200 while at least one worker is ready and the cluster is not stopping (?verbose: why)
  /status   the cluster's state, as 'shoal status --json' prints it
  /metrics  Prometheus metrics: shoal's and the app's, summed over workers
`;

/**
 * `views` is undefined for the moment between the server's bind and the
 * rest of the primary's start; `pages` are the dashboard's files by path.
 */
export function adminRoutes(views: () => AdminViews | undefined, pages: ReadonlyMap<string, Reply>): Map<string, Route> {
  const starting = text(503, 'starting\n');
  const withViews = (fn: (v: AdminViews, q: URLSearchParams) => Reply | Promise<Reply>): Route => (q) => {
    const v = views();
    return v ? fn(v, q) : starting;
  };
  const page = pages.get('/');
  const routes = new Map<string, Route>([
    ['/', (_q, asked) => (page && /\btext\/html\b/.test(asked.headers.accept ?? '') ? page : text(200, INDEX))],
    ['/livez', () => text(200, 'ok\n')],
    ['/readyz', (q) => {
      const v = views();
      const r = v ? readiness(v.snapshot()) : { ready: false, reason: 'not ready: starting' };
      return text(r.ready ? 200 : 503, q.has('verbose') ? `${r.reason}\n` : r.ready ? 'ok\n' : 'not ready\n');
    }],
    ['/status', withViews(async (v) => ({ status: 200, type: 'application/json; charset=utf-8', body: `${JSON.stringify({ ok: true, ...await v.status() })}\n` }))],
    ['/metrics', withViews(async (v) => ({ status: 200, ...await v.metrics() }))],
  ]);
  for (const [p, reply] of pages) if (p !== '/') routes.set(p, () => reply);
  return routes;
}
