/**
 * What workers report about their load is what status shows and least-load
 * balances on: a worker kept busy must read as busy.
 */
import path from 'node:path';
import http from 'node:http';
import { afterEach, expect, it } from 'vitest';
import { clusterStatus, FIXTURES, startCluster, type Cluster } from '../helpers/cluster.js';
import { request } from '../helpers/http.js';

let cluster: Cluster | undefined;
afterEach(async () => { await cluster?.stop('SIGKILL'); cluster = undefined; });

it('a worker kept busy by requests reports a high event-loop utilisation', async () => {
  cluster = await startCluster(path.join(FIXTURES, 'blocking.mjs'), { workers: 1 });
  const c = cluster;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  let running = true;
  // Four clients, each request holding the loop 3 ms: the worker is busy nearly all the time.
  const clients = Array.from({ length: 4 }, async () => {
    while (running) await request(c.port, '/block?ms=3', { agent });
  });
  try {
    const samples: number[] = [];
    for (let i = 0; i < 10; i++) {
      await new Promise((r) => setTimeout(r, 150));
      samples.push((await clusterStatus(c)).workers[0]!.elu as number);
    }
    samples.sort((a, b) => a - b);
    expect(samples[Math.floor(samples.length / 2)], `elu samples ${samples.join(' ')}`).toBeGreaterThan(0.5);
  } finally {
    running = false;
    await Promise.all(clients);
    agent.destroy();
  }
});
