/**
 * Dispatch guarantees (DESIGN.md point 1) against real processes and sockets:
 * a connection the primary accepted is never silently dropped.
 */
import { afterEach, describe, expect, it } from 'vitest';
import net from 'node:net';
import path from 'node:path';
import { FIXTURES, startCluster, waitForStatus, type Cluster, type LogLine } from '../helpers/cluster.js';
import { request, runLoad } from '../helpers/load.js';

const app = path.join(FIXTURES, 'blocking.mjs');
let cluster: Cluster | undefined;
afterEach(async () => { await cluster?.stop('SIGKILL'); cluster = undefined; });

const readyLog = (id: number) => (l: LogLine) => l.msg === 'worker ready' && l.worker === id;
const pidOf = (c: Cluster, id: number): number => {
  const l = c.logs.find((x) => x.msg === 'worker forked' && x.worker === id);
  if (!l) throw new Error(`no fork log for worker ${id}`);
  return l.workerPid as number;
};

describe('dispatch', () => {
  it.each([['kernel', []], ['handoff', ['--accept', 'handoff']]] as const)('kill -9 of workers under continuous new connections (%s accept): zero hung, only accepted requests reset', async (mode, extraArgs) => {
    cluster = await startCluster(app, { workers: 3, extraArgs: [...extraArgs] });
    if (mode === 'kernel') await cluster.waitForLog((l) => l.msg?.startsWith('accept mode: kernel') === true);
    const c = cluster;
    let finish!: () => void;
    const stop = new Promise<void>((r) => { finish = r; });
    // A new connection per request, 2 ms of work each, 12 loops: there is always something in flight.
    const load = runLoad({ port: c.port, path: '/?delay=2', concurrency: 12, keepAlive: false, timeoutMs: 5_000 }, stop);
    const kills = 4;
    let nextId = 4;
    for (let k = 0; k < kills; k++) {
      await new Promise((r) => setTimeout(r, 400));
      const victim = [...new Set(c.logs.filter((l) => l.msg === 'worker ready').map((l) => l.worker as number))]
        .filter((id) => !c.logs.some((l) => l.msg?.startsWith('worker exited') && l.worker === id))[0]!;
      process.kill(pidOf(c, victim), 'SIGKILL');
      await c.waitForLog(readyLog(nextId++), 10_000);
    }
    await new Promise((r) => setTimeout(r, 300));
    finish();
    const counts = await load;
    expect(counts.hung, counts.errors.join('\n')).toBe(0);
    expect(counts.other + counts.refused, counts.errors.join('\n')).toBe(0);
    expect(counts.non2xx).toBe(0);
    // Only requests a dying worker had accepted may fail: at most the 12 in flight per kill.
    expect(counts.resets).toBeLessThanOrEqual(kills * 12);
    expect(counts.ok).toBeGreaterThan(200);
  });

  it('re-dispatches the connections a blocked worker never acknowledged when it is killed', async () => {
    cluster = await startCluster(app, { workers: 2, balancer: 'round-robin' });
    const c = cluster;
    // Block worker 1's event loop for a long time; round robin alternates, so retry until it lands there.
    let blocked: Promise<unknown> | undefined;
    for (let i = 0; i < 6 && !blocked; i++) {
      const p = request(c.port, '/block?ms=20000', false, 30_000).catch((e: Error) => e);
      const quick = await Promise.race([p, new Promise((r) => setTimeout(() => r('pending'), 300))]);
      if (quick === 'pending') blocked = p;
    }
    expect(blocked, 'worker 1 never got the blocking request').toBeDefined();
    // New connections: round robin offers every other one to worker 1, which cannot acknowledge.
    const reqs = Array.from({ length: 8 }, () => request(c.port, '/', false, 10_000));
    await waitForStatus(c, (s) => s.primary.unacknowledged >= 1, 'a handoff worker 1 cannot acknowledge');
    process.kill(pidOf(c, 1), 'SIGKILL');
    const results = await Promise.all(reqs);
    expect(results.map((r) => r.status)).toEqual(Array(8).fill(200));
    expect(results.every((r) => JSON.parse(r.body).worker !== '1')).toBe(true);
    const redispatch = await c.waitForLog((l) => typeof l.msg === 'string' && l.msg.includes('un-acknowledged'));
    expect(redispatch.connections).toBeGreaterThanOrEqual(1);
    expect(redispatch.connections).toBeLessThanOrEqual(2); // the credit window
    // The request the dead worker had accepted fails with a reset, as it must.
    const e = await blocked;
    expect(e).toBeInstanceOf(Error);
  });

  it('a connection accepted before any worker is ready waits and is served', async () => {
    cluster = await startCluster(app, { workers: 1, waitReady: false });
    // The primary has bound the port when it logs 'shoal starting'; the worker is forked after that.
    await cluster.waitForLog((l) => l.msg === 'shoal starting');
    const sock = net.connect(cluster.port, '127.0.0.1');
    sock.on('error', () => {});
    await new Promise((r) => sock.once('connect', r));
    expect(cluster.logs.some((l) => l.msg === 'worker ready'), 'the worker was ready before the client connected').toBe(false);
    // write, not end: node's http server drops a request whose client half-closed before the response.
    sock.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    const data = await new Promise<string>((resolve) => { let d = ''; sock.on('data', (c) => { d += c; }); sock.on('close', () => resolve(d)); });
    expect(data).toMatch(/^HTTP\/1.1 200/);
  });
});
