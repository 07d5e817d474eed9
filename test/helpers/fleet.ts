/**
 * Two shoal hosts sharing sessions through a real Redis, behind a real
 * HAProxy running deploy/haproxy.cfg: start them, restart one as a rolling
 * restart does, and drive session writes through HAProxy, counting failed
 * requests and lost writes. Used by test/e2e/haproxy.test.ts and by
 * scripts/fleet-restart.ts (the README's figures).
 */
import http from 'node:http';
import path from 'node:path';
import { FIXTURES, freePort, startCluster, type Cluster } from './cluster.js';
import { startHaproxy, type Haproxy, type ServerStat } from './haproxy.js';
import { waitFor } from './http.js';
import { request } from './load.js';
import { startRedis, type RedisServer } from './redis.js';

export const FLEET_APP = path.join(FIXTURES, 'fleet.mjs');
export const ADMIN_TOKEN = 'fleet-test-token-0123456789abcdef';
/** How long a host (re)start and HAProxy seeing it up may take on a loaded 2-core machine. */
export const HOST_UP_TIMEOUT_MS = 30_000;
const REQUEST_TIMEOUT_MS = 10_000;

export interface HostSpec { readonly name: string; readonly port: number; readonly admin: number; readonly agent: number }

export interface Fleet {
  readonly redis: RedisServer;
  readonly haproxy: Haproxy;
  readonly specs: readonly HostSpec[];
  hosts: Cluster[];
  /** Stops host i (SIGTERM: its shutdown delay, then a graceful stop) and starts it again on the same ports. */
  restart(i: number): Promise<void>;
  /** Until HAProxy has every server UP with a weight above 0. */
  allUp(): Promise<Map<string, ServerStat>>;
  close(): Promise<void>;
}

export async function startFleet(o: { shutdownDelayMs: number; workers: number }): Promise<Fleet> {
  const redis = await startRedis();
  const specs: HostSpec[] = [];
  for (const name of ['host1', 'host2']) specs.push({ name, port: await freePort(), admin: await freePort(), agent: await freePort() });
  const startHost = (s: HostSpec): Promise<Cluster> => startCluster(FLEET_APP, {
    port: s.port, workers: o.workers,
    extraArgs: ['--redis', redis.url, '--admin', `127.0.0.1:${s.admin}`, '--agent', `127.0.0.1:${s.agent}`, '--shutdown-delay', String(o.shutdownDelayMs)],
    env: { SHOAL_ADMIN_TOKEN: ADMIN_TOKEN },
  });
  const hosts = await Promise.all(specs.map(startHost));
  // The hosts have a token; HAProxy's /readyz check goes without it (the health probes need none).
  const env: Record<string, string> = {};
  specs.forEach((s, i) => {
    env[`SHOAL_HOST${i + 1}`] = `127.0.0.1:${s.port}`;
    env[`SHOAL_HOST${i + 1}_ADMIN`] = String(s.admin);
    env[`SHOAL_HOST${i + 1}_AGENT`] = String(s.agent);
  });
  const haproxy = await startHaproxy(await freePort(), env);
  const fleet: Fleet = {
    redis, haproxy, specs, hosts,
    async allUp() {
      let last = new Map<string, ServerStat>();
      await waitFor(async () => {
        last = await haproxy.servers();
        return specs.every((s) => { const st = last.get(s.name); return st !== undefined && st.status === 'UP' && st.weight > 0; });
      }, HOST_UP_TIMEOUT_MS, 'every server UP in haproxy');
      return last;
    },
    async restart(i) {
      const exit = await fleet.hosts[i]!.stop('SIGTERM', HOST_UP_TIMEOUT_MS);
      if (exit.code !== 0) throw new Error(`host ${specs[i]!.name} exited ${String(exit.code)}`);
      fleet.hosts[i] = await startHost(specs[i]!);
      await fleet.allUp();
    },
    async close() {
      await haproxy.stop();
      await Promise.all(fleet.hosts.map((h) => h.stop('SIGKILL')));
      await redis.kill();
    },
  };
  await fleet.allUp();
  return fleet;
}

export interface SessionLoad { ok: number; failed: number; lost: number; errors: string[]; byPort: Map<number, number> }

/**
 * `clients` loops, each a browser-like client with its own session (every
 * cookie kept): GET /visits through HAProxy until `stop`; each answer must be
 * the previous one + 1, or a write was lost.
 */
export async function sessionLoad(port: number, clients: number, stop: Promise<unknown>): Promise<SessionLoad> {
  const r: SessionLoad = { ok: 0, failed: 0, lost: 0, errors: [], byPort: new Map() };
  let stopped = false;
  void stop.then(() => { stopped = true; });
  const client = async (): Promise<void> => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const jar = new Map<string, string>();
    let last = 0;
    while (!stopped) {
      try {
        const cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
        const res = await request(port, '/visits', agent, REQUEST_TIMEOUT_MS, cookie ? { cookie } : {});
        for (const line of [res.headers['set-cookie'] ?? []].flat()) {
          const [k, v] = line.split(';')[0]!.split('=');
          jar.set(k!, v!);
        }
        if (res.status !== 200) { r.failed++; if (r.errors.length < 20) r.errors.push(`HTTP ${res.status} ${res.body.slice(0, 100)}`); continue; }
        const body = JSON.parse(res.body) as { visits: number; port: number };
        if (last > 0 && body.visits !== last + 1) r.lost++;
        last = body.visits;
        r.ok++;
        r.byPort.set(body.port, (r.byPort.get(body.port) ?? 0) + 1);
      } catch (e) {
        r.failed++;
        if (r.errors.length < 20) r.errors.push(`${(e as NodeJS.ErrnoException).code ?? ''} ${(e as Error).message}`);
      }
    }
    agent.destroy();
  };
  await Promise.all(Array.from({ length: clients }, client));
  return r;
}
