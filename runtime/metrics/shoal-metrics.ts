/**
 * shoal's own metrics, read from the cluster's state (primary/cluster-state.ts)
 * at scrape time: one pure function from the state to prom-client's JSON
 * shape. prom-client's metric classes only move forward by inc() and
 * observe(); these figures are already counted in the model, so they are
 * rendered as they are rather than replayed into counters. The README's
 * "Metrics" section lists every one.
 *
 * `worker` labels carry the slot number (1..N): stable across restarts and
 * reloads, so a replaced worker's counts stay in its slot's series.
 */
import type { ClusterState, WorkerRow } from '../primary/cluster-state.js';
import { RESTART_REASONS } from '../primary/supervisor.js';
import { STATUS_CLASSES } from '../worker/http-stats.js';
import type { MetricJson, MetricValue } from './metric-json.js';
import type { BucketFigures } from './totals.js';

type Labels = Record<string, string>;

const metric = (type: MetricJson['type'], name: string, help: string, values: MetricValue[]): MetricJson => ({ name, help, type, aggregator: 'sum', values });
const v = (value: number, labels: Labels = {}): MetricValue => ({ value, labels });

function histogram(name: string, help: string, f: BucketFigures): MetricJson {
  let cum = 0;
  const values: MetricValue[] = f.counts.map((n, i) => {
    cum += n;
    return { metricName: `${name}_bucket`, value: cum, labels: { le: i < f.bounds.length ? String(f.bounds[i]) : '+Inf' } };
  });
  values.push({ metricName: `${name}_sum`, value: f.sum, labels: {} }, { metricName: `${name}_count`, value: f.count, labels: {} });
  return metric('histogram', name, help, values);
}

/** Every state a slot is counted in; a ready worker out of rotation (not answering) counts as hung. */
const SLOT_STATES = ['starting', 'ready', 'hung', 'draining', 'restarting', 'failed'] as const;
const slotState = (w: WorkerRow): string => (w.hungMs !== undefined ? 'hung' : w.state);

/** One gauge per live worker, labelled with its slot. */
function perWorker(name: string, help: string, rows: readonly WorkerRow[], value: (w: WorkerRow) => number | null | undefined): MetricJson {
  const values: MetricValue[] = [];
  for (const w of rows) {
    const x = w.id === null ? null : value(w);
    if (typeof x === 'number') values.push(v(x, { worker: String(w.slot) }));
  }
  return metric('gauge', name, help, values);
}

export function shoalMetrics(s: ClusterState, scrapeErrors: number): MetricJson[] {
  const p = s.primary;
  const rows = s.workers;
  const count = (st: string): number => rows.filter((w) => slotState(w) === st).length;
  const out: MetricJson[] = [
    metric('gauge', 'shoal_workers', 'Worker slots by state (hung: ready but not answering, out of rotation).', SLOT_STATES.map((st) => v(count(st), { state: st }))),
    metric('counter', 'shoal_worker_restarts_total', 'Workers started in place of one that stopped unasked, by reason (crash, start, hang, memory, app-close).',
      RESTART_REASONS.map((r) => v(p.restartsByReason[r], { reason: r }))),
    metric('counter', 'shoal_reloads_total', 'Rolling reloads by result (done, failed; refused: asked for while another operation ran).',
      [v(p.reloads.done, { result: 'done' }), v(p.reloads.failed, { result: 'failed' }), v(p.reloads.refused, { result: 'refused' })]),
    histogram('shoal_reload_duration_seconds', 'Duration of the rolling reloads that ran (done or failed).', p.reloads.duration),
    metric('counter', 'shoal_connections_accepted_total', 'TCP connections accepted, by the primary (handoff) or by the workers (kernel accept).', [v(p.accepted + p.kernelAccepted)]),
    metric('gauge', 'shoal_connections_queued', 'Connections waiting in the primary for a worker.', [v(p.queued)]),
    perWorker('shoal_worker_connections', 'Open connections of the worker in each slot.', rows, (w) => w.connections),
    perWorker('shoal_worker_inflight_requests', 'Requests in flight in the worker in each slot.', rows, (w) => w.inflight),
    perWorker('shoal_worker_event_loop_utilization', 'Event-loop utilisation (0..1) of the worker in each slot, over its last report window.', rows, (w) => w.elu),
    perWorker('shoal_worker_resident_memory_bytes', 'Resident memory of the worker in each slot.', rows, (w) => w.rssBytes),
    metric('counter', 'shoal_http_requests_total', 'HTTP responses sent in full, by slot and status class; a slot keeps the counts of every worker that filled it.',
      Object.entries(p.http.bySlot).flatMap(([slot, codes]) => STATUS_CLASSES.map((code, i) => v(codes[i] ?? 0, { worker: slot, code })))),
    histogram('shoal_http_request_duration_seconds', "HTTP request durations measured in the workers, from the request to its response's end.", p.http.duration),
    metric('gauge', 'shoal_sessions', "Sessions in the host's copy (the primary's).", [v(p.sessions.sessions)]),
    metric('gauge', 'shoal_session_bytes', "Session data in the host's copy.", [v(p.sessions.bytes)]),
    perWorker('shoal_session_replication_lag_p99_seconds', 'p99 of the delay from a session write on another worker to its arrival in this slot\'s worker, over recent samples.', rows,
      (w) => (w.sessions?.lagP99 == null ? null : w.sessions.lagP99 / 1000)),
    metric('counter', 'shoal_scrape_errors_total', 'Workers left out of a scrape of the app\'s metrics (late, failed or not answering).', [v(scrapeErrors)]),
  ];
  if (p.redis) {
    out.push(
      metric('gauge', 'shoal_redis_up', 'Whether the link to Redis is up (1) or not (0).', [v(p.redis.status === 'ready' ? 1 : 0)]),
      metric('gauge', 'shoal_redis_queued_changes', 'Sessions whose changes wait for Redis (while it is away).', [v(p.redis.queued)]),
    );
    if (s.hosts) out.push(metric('gauge', 'shoal_hosts', 'Hosts sharing this cluster\'s Redis (this one included).', [v(s.hosts.length)]));
  }
  return out;
}
