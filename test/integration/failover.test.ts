/**
 * Failover: a worker whose event loop is blocked leaves rotation and is
 * replaced; a worker over its memory limit is replaced gracefully. Real
 * processes, real sockets, clients that count errors and hangs.
 */
import { afterEach, describe, expect, it } from 'vitest';
import path from 'node:path';
import { FIXTURES, startCluster, type Cluster } from '../helpers/cluster.js';
import { request, runLoad } from '../helpers/load.js';

let cluster: Cluster | undefined;
afterEach(async () => { await cluster?.stop('SIGKILL'); cluster = undefined; });

describe('hung worker', () => {
  it('new connections keep succeeding; at most the credit window reaches the hung worker, which is replaced', async () => {
    cluster = await startCluster(path.join(FIXTURES, 'blocking.mjs'), {
      workers: 2, balancer: 'round-robin', extraArgs: ['--hang-timeout', '1000', '--hang-grace', '2000'],
    });
    const c = cluster;
    // A route that loops (for a minute) on worker 1; round robin alternates, so retry until it lands there.
    let blocked: Promise<unknown> | undefined;
    for (let i = 0; i < 6 && !blocked; i++) {
      const p = request(c.port, '/block?ms=60000', false, 90_000).catch((e: Error) => e);
      if ((await Promise.race([p, new Promise((r) => setTimeout(() => r('pending'), 300))])) === 'pending') blocked = p;
    }
    expect(blocked, 'worker 1 never got the blocking request').toBeDefined();
    let finish!: () => void;
    const stop = new Promise<void>((r) => { finish = r; });
    const load = runLoad({ port: c.port, path: '/', concurrency: 4, keepAlive: false, timeoutMs: 10_000 }, stop);
    await c.waitForLog((l) => l.msg === 'worker is not responding (event loop blocked?); no new connections go to it' && l.worker === 1, 10_000);
    await c.waitForLog((l) => l.msg === 'worker still not responding; killing it and starting a replacement', 10_000);
    await c.waitForLog((l) => l.msg === 'worker ready' && l.worker === 3, 10_000);
    await new Promise((r) => setTimeout(r, 500));
    finish();
    const counts = await load;
    expect(counts.hung, counts.errors.join('\n')).toBe(0);
    expect(counts.resets + counts.other + counts.refused + counts.non2xx, counts.errors.join('\n')).toBe(0);
    expect(counts.ok).toBeGreaterThan(50);
    const handedBack = c.logs.find((l) => typeof l.msg === 'string' && l.msg.includes('un-acknowledged'));
    expect((handedBack?.connections as number | undefined) ?? 0).toBeLessThanOrEqual(2);
    // Only the request the hung worker was running is lost.
    expect(await blocked).toBeInstanceOf(Error);
  });
});

describe('memory limit', () => {
  it('a worker over --max-memory is replaced gracefully: replacement first, then drain, no failed request', async () => {
    cluster = await startCluster(path.join(FIXTURES, 'leaky.mjs'), { workers: 1, extraArgs: ['--max-memory', '200M'] });
    const c = cluster;
    let finish!: () => void;
    const stop = new Promise<void>((r) => { finish = r; });
    const load = runLoad({ port: c.port, path: '/', concurrency: 4, keepAlive: true, timeoutMs: 10_000 }, stop);
    for (let i = 0; i < 6; i++) expect((await request(c.port, '/leak', false, 10_000)).status).toBe(200);
    await c.waitForLog((l) => l.msg === 'worker over the memory limit; replacing it gracefully' && l.worker === 1, 10_000);
    await c.waitForLog((l) => l.msg === 'worker ready' && l.worker === 2, 10_000);
    const exited = await c.waitForLog((l) => l.msg === 'worker exited' && l.worker === 1, 15_000);
    expect(exited).toMatchObject({ code: 0, signal: null });
    await new Promise((r) => setTimeout(r, 300));
    finish();
    const counts = await load;
    expect(counts.resets + counts.hung + counts.other + counts.refused + counts.non2xx, counts.errors.join('\n')).toBe(0);
    expect(counts.workers).toEqual(new Set(['1', '2']));
  });
});
