/**
 * Real apps, unmodified, under a real shoal cluster: each fixture calls listen(process.env.PORT)
 * the way a user of its framework would, and shoal must spread new connections over its workers.
 */
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FIXTURES, startCluster, type Cluster } from '../helpers/cluster.js';
import { descendants, getJson, isAlive, mapLimit, reap, waitFor, wsEcho } from '../helpers/http.js';

const WORKERS = 2;
const REQUESTS = 40;
const CONCURRENCY = 4;

interface Reply { pid: number; worker?: string; fixture: string; url: string; encrypted?: boolean }

let cluster: Cluster | undefined;
/** Every process this file started (primary, workers), reaped after each test if still alive. */
const started = new Set<number>();

async function start(entry: string): Promise<Cluster> {
  const c = await startCluster(path.join(FIXTURES, entry), { workers: WORKERS });
  cluster = c;
  if (c.proc.pid) started.add(c.proc.pid);
  for (const p of descendants(c.proc.pid ?? -1)) started.add(p);
  return c;
}

/** SIGTERM, exit code 0, and no worker outlives the primary. */
async function stopCleanly(c: Cluster, workerPids: Iterable<number>): Promise<void> {
  const pids = [...workerPids];
  const exit = await c.stop('SIGTERM');
  expect(exit, `primary exit after SIGTERM; stderr:\n${c.stderr()}`).toEqual({ code: 0, signal: null });
  await waitFor(() => pids.every((p) => !isAlive(p)), 5000,
    `worker pids ${pids.join(', ')} to exit after the primary did (alive: ${pids.filter(isAlive).join(', ')})`);
}

afterEach(async () => {
  const c = cluster;
  cluster = undefined;
  if (c) {
    for (const p of descendants(c.proc.pid ?? -1)) started.add(p);
    if (c.proc.exitCode === null && c.proc.signalCode === null) await c.stop('SIGTERM', 10_000);
  }
  // Give workers a moment to follow the primary, then kill whatever this file started and left behind.
  await waitFor(() => [...started].every((p) => !isAlive(p)), 3000, 'processes to exit').catch(() => undefined);
  reap(started);
  started.clear();
});

const HTTP_CASES = [
  { name: 'node:http, CommonJS', entry: 'http-cjs.cjs', fixture: 'http-cjs', tls: false },
  { name: 'node:http, ESM', entry: 'http-esm.mjs', fixture: 'http-esm', tls: false },
  { name: 'express 5', entry: 'express.mjs', fixture: 'express', tls: false },
  { name: 'fastify 5 (listens on localhost: 127.0.0.1 and ::1)', entry: 'fastify.mjs', fixture: 'fastify', tls: false },
  { name: 'koa 3', entry: 'koa.mjs', fixture: 'koa', tls: false },
  { name: 'TypeScript entry (tsx)', entry: 'app.ts', fixture: 'app-ts', tls: false },
  { name: 'node:https, TLS ends in the worker', entry: 'https.mjs', fixture: 'https', tls: true },
  { name: 'node:http + ws (plain HTTP requests)', entry: 'ws.mjs', fixture: 'ws', tls: false },
] as const;

describe.each(HTTP_CASES)('$name', ({ entry, fixture, tls }) => {
  it(`serves ${REQUESTS} requests on new connections from more than one worker, then stops with code 0`, async () => {
    const c = await start(entry);

    const replies = await mapLimit(Array.from({ length: REQUESTS }, (_, i) => i), CONCURRENCY, async (i) => {
      const r = await getJson<Reply>(c.port, `/r/${i}`, { agent: false, tls });
      return { i, ...r };
    });

    for (const r of replies) {
      expect(r.status, `request ${r.i}: ${r.body}`).toBe(200);
      expect(r.json).toMatchObject({ fixture, url: `/r/${r.i}` });
      expect(typeof r.json.pid).toBe('number');
      expect(r.json.pid, 'served by a worker, not by the primary').not.toBe(c.proc.pid);
      expect(['1', '2'], `SHOAL_WORKER_ID seen by the app (pid ${r.json.pid})`).toContain(r.json.worker);
      if (tls) {
        expect(r.json.encrypted, 'the app sees a TLS socket').toBe(true);
        expect(r.peerCN, 'the client saw the fixture certificate').toBe('localhost');
      }
    }

    const pids = new Set(replies.map((r) => r.json.pid));
    for (const p of pids) started.add(p);
    expect(pids.size, `distinct worker pids over ${REQUESTS} requests: ${[...pids].join(', ')}`).toBeGreaterThan(1);
    expect(pids.size).toBeLessThanOrEqual(WORKERS);
    // One worker id per pid: the id stays with its process.
    const idOf = new Map<number, string | undefined>();
    for (const r of replies) {
      const seen = idOf.get(r.json.pid);
      if (seen !== undefined) expect(r.json.worker, `worker id of pid ${r.json.pid}`).toBe(seen);
      idOf.set(r.json.pid, r.json.worker);
    }

    await stopCleanly(c, pids);
  });
});

describe('ws: WebSocketServer on the app server', () => {
  it('upgrades and echoes on several connections, served by more than one worker, then stops with code 0', async () => {
    const c = await start('ws.mjs');
    const CONNS = 12;

    const echoes = await mapLimit(Array.from({ length: CONNS }, (_, i) => i), 3, async (i) => {
      const msg = `hello-${i}`;
      const echo = await wsEcho(c.port, msg);
      return { msg, echo };
    });

    const pids = new Set<number>();
    for (const { msg, echo } of echoes) {
      const m = /^(\d+):(.*)$/s.exec(echo);
      expect(m, `echo ${JSON.stringify(echo)} is "<pid>:<message>"`).not.toBeNull();
      expect(m![2]).toBe(msg);
      const pid = Number(m![1]);
      expect(pid).not.toBe(c.proc.pid);
      pids.add(pid);
    }
    for (const p of pids) started.add(p);
    expect(pids.size, `distinct worker pids over ${CONNS} WebSocket connections: ${[...pids].join(', ')}`).toBeGreaterThan(1);

    await stopCleanly(c, pids);
  });
});
