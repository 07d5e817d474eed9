/** The admin server of a test cluster: its address from `status`, and scrapes parsed as Prometheus text. */
import { clusterStatus, type Cluster } from './cluster.js';
import { request, type HttpResult, type RequestOptions } from './http.js';
import { parsePrometheus, type Family } from './prom.js';

export interface AdminAt { readonly host: string; readonly port: number }

/** Where the cluster's admin server listens, as status shows it (so --admin 127.0.0.1:0 works). */
export async function adminOf(c: Cluster): Promise<AdminAt> {
  const url = (await clusterStatus(c)).primary.admin;
  if (typeof url !== 'string') throw new Error(`status shows no admin URL: ${String(url)}`);
  const u = new URL(url);
  return { host: u.hostname.replace(/^\[(.*)\]$/, '$1'), port: Number(u.port) };
}

export const adminGet = (a: AdminAt, path: string, opts: RequestOptions = {}): Promise<HttpResult> =>
  request(a.port, path, { host: a.host, ...opts });

/** One /metrics scrape: must answer 200 in the Prometheus text format; parsed strictly. */
export async function scrape(a: AdminAt, opts: RequestOptions = {}): Promise<{ families: Map<string, Family>; ms: number; text: string }> {
  const t0 = performance.now();
  const r = await adminGet(a, '/metrics', opts);
  const ms = performance.now() - t0;
  if (r.status !== 200) throw new Error(`/metrics answered ${r.status}: ${r.body}`);
  if (!String(r.headers['content-type']).startsWith('text/plain; version=0.0.4')) throw new Error(`/metrics content-type ${String(r.headers['content-type'])}`);
  return { families: parsePrometheus(r.body), ms, text: r.body };
}
