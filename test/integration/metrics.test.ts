/**
 * /metrics against a real cluster: the scrape parsed as Prometheus text,
 * shoal's own figures, the app's prom-client metrics summed over workers
 * (default registry and an app's own), counters that never go backwards
 * (a worker killed between scrapes, a reload), and a worker too slow to
 * answer, left out of one scrape without failing it.
 */
import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import path from 'node:path';
import { clusterStatus, FIXTURES, startCluster, waitForStatus, type Cluster } from '../helpers/cluster.js';
import { request } from '../helpers/http.js';
import { adminOf, scrape } from '../helpers/admin.js';
import { sumOf, valueOf } from '../helpers/prom.js';

const APP = path.join(FIXTURES, 'metrics-app.mjs');
const ADMIN = ['--admin', '127.0.0.1:0'];

let cluster: Cluster | undefined;
afterEach(async () => { await cluster?.stop('SIGKILL'); cluster = undefined; });

/** `n` requests to `p`, one after the other, each on a new connection: each is counted by the app. */
async function hit(c: Cluster, n: number, p = '/'): Promise<void> {
  for (let i = 0; i < n; i++) expect((await request(c.port, p)).status).toBeLessThan(500);
}

/** Until the primary has every load report of the requests sent (shoal's HTTP counts arrive with them). */
const reported = (c: Cluster, total: number): Promise<unknown> => waitForStatus(c, (s) => {
  const http = (s.primary as unknown as { http: { bySlot: Record<string, number[]> } }).http;
  return Object.values(http.bySlot).flat().reduce((a, b) => a + b, 0) >= total;
}, `${total} responses reported`);

/** A request whose response headers have arrived; `done` settles when it ends (wrapped: a promise resolved with a promise waits for it). */
function blockedRequest(port: number, path: string): Promise<{ done: Promise<void> }> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      resolve({ done: new Promise<void>((r) => { res.resume(); res.on('end', r); res.on('close', () => r()); }) });
    }).on('error', reject);
  });
}

describe('/metrics', () => {
  it("is Prometheus text with shoal's own figures and the app's default-registry metrics summed over workers", async () => {
    cluster = await startCluster(APP, { workers: 2, extraArgs: ADMIN });
    const c = cluster;
    const admin = await adminOf(c);
    await hit(c, 20);
    await hit(c, 3, '/code?c=404');
    await hit(c, 2, '/delay?ms=60');
    await reported(c, 25);
    const { families: f } = await scrape(admin);

    expect(valueOf(f, 'shoal_workers', { state: 'ready' })).toBe(2);
    expect(valueOf(f, 'shoal_connections_accepted_total')).toBeGreaterThanOrEqual(25);
    expect(f.get('shoal_worker_connections')!.samples.map((s) => s.labels.worker).sort()).toEqual(['1', '2']);
    for (const name of ['shoal_worker_inflight_requests', 'shoal_worker_event_loop_utilization', 'shoal_worker_resident_memory_bytes']) {
      expect(f.get(name)!.samples, name).toHaveLength(2);
    }
    expect(valueOf(f, 'shoal_worker_resident_memory_bytes', { worker: '1' })).toBeGreaterThan(10 * 1024 * 1024);
    const byCode = (code: string): number => f.get('shoal_http_requests_total')!.samples.filter((s) => s.labels.code === code).reduce((a, s) => a + s.value, 0);
    expect(byCode('2xx')).toBe(22);
    expect(byCode('4xx')).toBe(3);
    expect(f.get('shoal_http_request_duration_seconds')!.type).toBe('histogram');
    expect(valueOf(f, 'shoal_http_request_duration_seconds_count')).toBe(25);
    // The two 60 ms requests are above the 50 ms bucket and within the 100 ms one.
    expect(valueOf(f, 'shoal_http_request_duration_seconds_bucket', { le: '0.1' }) - valueOf(f, 'shoal_http_request_duration_seconds_bucket', { le: '0.05' })).toBe(2);
    expect(valueOf(f, 'shoal_scrape_errors_total')).toBe(0);
    expect(f.has('shoal_redis_up')).toBe(false);

    // The app's metrics: counters and histograms summed, aggregator 'first' honoured.
    expect(f.get('app_requests_total')!.type).toBe('counter');
    expect(valueOf(f, 'app_requests_total')).toBe(25);
    expect(valueOf(f, 'app_up')).toBe(2);
    expect(valueOf(f, 'app_config_version')).toBe(7);
    expect(valueOf(f, 'app_work_seconds_count')).toBe(25);
  });

  it("reads an app's own Registry passed with metrics.register()", async () => {
    cluster = await startCluster(APP, { workers: 2, extraArgs: ADMIN, env: { OWN_REGISTRY: '1' } });
    const c = cluster;
    await hit(c, 7);
    const { families: f } = await scrape(await adminOf(c));
    expect(valueOf(f, 'app_requests_total')).toBe(7);
    expect(valueOf(f, 'app_up')).toBe(2);
  });

  it('never loads prom-client into an app that does not use it', async () => {
    cluster = await startCluster(path.join(FIXTURES, 'no-metrics.mjs'), { workers: 1, extraArgs: ADMIN });
    const c = cluster;
    const { families: f } = await scrape(await adminOf(c));
    expect(valueOf(f, 'shoal_scrape_errors_total')).toBe(0);
    expect([...f.keys()].every((n) => n.startsWith('shoal_'))).toBe(true);
    expect(JSON.parse((await request(c.port, '/')).body)).toEqual({ promClientLoaded: false });
  });

  it('a worker killed with SIGKILL between scrapes: the summed counters do not go down', async () => {
    cluster = await startCluster(APP, { workers: 2, extraArgs: ADMIN });
    const c = cluster;
    const admin = await adminOf(c);
    await hit(c, 30);
    await reported(c, 30);
    const before = await scrape(admin);
    expect(valueOf(before.families, 'app_requests_total')).toBe(30);
    const victim = (await clusterStatus(c)).workers[0]!;
    process.kill(victim.pid!, 'SIGKILL');
    await waitForStatus(c, (s) => s.workers[0]!.state === 'ready' && s.workers[0]!.id !== victim.id, 'the replacement ready');
    const after = await scrape(admin);
    expect(valueOf(after.families, 'app_requests_total')).toBe(30);
    expect(valueOf(after.families, 'app_work_seconds_count')).toBe(30);
    expect(sumOf(after.families, 'shoal_http_requests_total')).toBe(30);
    expect(valueOf(after.families, 'shoal_worker_restarts_total', { reason: 'crash' })).toBe(1);
    // The gauges are the live workers' only.
    expect(valueOf(after.families, 'app_up')).toBe(2);
    await hit(c, 5);
    expect(valueOf((await scrape(admin)).families, 'app_requests_total')).toBe(35);
  });

  it('a reload loses no count, even of requests no scrape saw before their worker retired', async () => {
    cluster = await startCluster(APP, { workers: 2, extraArgs: ADMIN });
    const c = cluster;
    const admin = await adminOf(c);
    await hit(c, 12);
    c.proc.kill('SIGHUP');
    await c.waitForLog((l) => l.msg === 'reload done');
    const { families: f } = await scrape(admin);
    expect(valueOf(f, 'app_requests_total')).toBe(12);
    expect(valueOf(f, 'shoal_reloads_total', { result: 'done' })).toBe(1);
    expect(valueOf(f, 'shoal_reload_duration_seconds_count')).toBe(1);
  });

  it('a worker whose event loop is blocked is left out of one scrape, which still answers at once; concurrent scrapes share it', async () => {
    cluster = await startCluster(APP, { workers: 2, extraArgs: [...ADMIN, '--scrape-timeout', '300'] });
    const c = cluster;
    const admin = await adminOf(c);
    await hit(c, 10);
    expect(valueOf((await scrape(admin)).families, 'app_requests_total')).toBe(10);
    // Blocked for 2 s, under the 3 s hang timeout: the worker stays in rotation, and is asked.
    // The app sends its headers before it blocks: the block is under way once they are here.
    const blocked = await blockedRequest(c.port, '/block?ms=2000');
    const scrapes = await Promise.all(Array.from({ length: 5 }, () => scrape(admin, { timeoutMs: 2000 })));
    for (const s of scrapes) {
      expect(s.ms).toBeLessThan(1000);
      expect(valueOf(s.families, 'shoal_scrape_errors_total')).toBe(1);
      // The silent worker's last counts stand in (without the request it is blocked in): the sum does not drop.
      expect(valueOf(s.families, 'app_requests_total')).toBe(10);
      expect(valueOf(s.families, 'app_up')).toBe(1);
    }
    await blocked.done;
    const later = await scrape(admin);
    expect(valueOf(later.families, 'shoal_scrape_errors_total')).toBe(1);
    expect(valueOf(later.families, 'app_requests_total')).toBe(11);
    expect(valueOf(later.families, 'app_up')).toBe(2);
  });
});
