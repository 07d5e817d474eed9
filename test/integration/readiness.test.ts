/**
 * When a worker may take traffic (--wait-ready and ready()), and what a
 * worker that refuses a handoff (its app's maxConnections) does to the rest.
 */
import { afterEach, describe, expect, it } from 'vitest';
import path from 'node:path';
import { clusterStatus, FIXTURES, startCluster, type Cluster } from '../helpers/cluster.js';
import { request } from '../helpers/load.js';

let cluster: Cluster | undefined;
afterEach(async () => { await cluster?.stop('SIGKILL'); cluster = undefined; });

describe('readiness', () => {
  it('with --wait-ready a worker takes traffic only after the app calls ready()', async () => {
    cluster = await startCluster(path.join(FIXTURES, 'wait-ready.mjs'), {
      workers: 1, extraArgs: ['--wait-ready'], env: { READY_AFTER_MS: '800' }, waitReady: false,
    });
    const c = cluster;
    await c.waitForLog((l) => l.msg === 'shoal starting');
    // Sent while the app listens but has not called ready(): it waits in the primary's queue.
    const early = request(c.port, '/', false, 10_000);
    const ready = await c.waitForLog((l) => l.msg === 'worker ready');
    expect(ready.ms as number).toBeGreaterThanOrEqual(800);
    const r = await early;
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body).sinceStart).toBeGreaterThanOrEqual(800);
  });

  it('a worker that never calls ready() fails the start with a clear error', async () => {
    cluster = await startCluster(path.join(FIXTURES, 'wait-ready.mjs'), {
      workers: 1, extraArgs: ['--wait-ready', '--ready-timeout', '1000'], env: { READY_AFTER_MS: 'never' }, waitReady: false,
    });
    expect((await cluster.exited).code).toBe(1);
    expect(cluster.stderr()).toMatch(/did not become ready within 1000 ms/);
  });
});

describe('refused handoffs', () => {
  for (const accept of ['kernel', 'handoff'] as const) {
    it(`a worker at its maxConnections refuses, and the connection is served elsewhere or later, never lost (${accept} accept)`, async () => {
      cluster = await startCluster(path.join(FIXTURES, 'max-conns.mjs'), { workers: 2, extraArgs: ['--accept', accept] });
      const c = cluster;
      const results = await Promise.all(Array.from({ length: 8 }, () => request(c.port, '/?ms=300', false, 10_000)));
      expect(results.map((r) => r.status)).toEqual(Array(8).fill(200));
      const workers = new Set(results.map((r) => JSON.parse(r.body).worker));
      expect(workers).toEqual(new Set(['1', '2']));
      // In the handoff, refusals really happened: the worker held the connection (the primary had
      // closed its copy at node's receipt) and handed it back with the refusal.
      if (accept === 'handoff') {
        const p = (await clusterStatus(c)).primary;
        expect(p.refused).toBeGreaterThan(0);
        // Every handoff was delivered at node's receipt of its handle, none waited for an ack.
        expect(p.receipted).toBe(p.handedOff);
      }
    });
  }
});
