/**
 * Weights per slot (issue 13 point 9): `--weights` gives a slot a real
 * share, seen in status; weighted-round-robin follows it connection by
 * connection, least-conn divides by it (in both accept modes).
 */
import { afterEach, describe, expect, it } from 'vitest';
import path from 'node:path';
import { clusterStatus, FIXTURES, runCli, startCluster, type Cluster } from '../helpers/cluster.js';
import { request } from '../helpers/load.js';
import { spread } from '../helpers/spread.js';

const app = path.join(FIXTURES, 'blocking.mjs');
let cluster: Cluster | undefined;
afterEach(async () => { await cluster?.stop('SIGKILL'); cluster = undefined; });

const workerOf = (body: string): string => (JSON.parse(body) as { worker: string }).worker;

describe('weights', () => {
  it('weighted-round-robin with --weights 3,1: three connections to slot 1 for each to slot 2; status shows the weights', async () => {
    cluster = await startCluster(app, { workers: 2, balancer: 'weighted-round-robin', extraArgs: ['--weights', '3,1'] });
    const c = cluster;
    const st = await clusterStatus(c);
    expect(st.workers.map((w) => w.weight)).toEqual([3, 1]);
    const seen: string[] = [];
    for (let i = 0; i < 40; i++) seen.push(workerOf((await request(c.port, '/', false, 5_000)).body));
    expect(seen.filter((w) => w === '1')).toHaveLength(30);
    expect(seen.filter((w) => w === '2')).toHaveLength(10);
    const table = await runCli(['status', '--name', `test-${c.port}`]);
    expect(table.stdout).toMatch(/\bweight\b/);
  });

  it.each([['kernel', []], ['handoff', ['--accept', 'handoff']]] as const)('least-conn (%s accept) with --weights 3,1: keep-alive connections split about 3 to 1', async (_m, extra) => {
    cluster = await startCluster(app, { workers: 2, extraArgs: ['--weights', '3,1', ...extra] });
    const c = cluster;
    if (extra.length === 0) await c.waitForLog((l) => l.msg?.startsWith('accept mode: kernel') === true);
    const s = await spread(c.port, 40, 'one-by-one');
    const [a, b] = [s.counts.get('1') ?? 0, s.counts.get('2') ?? 0];
    expect(a + b).toBe(40);
    // 30/10 exactly with the handoff; kernel accept keeps each within its slack of its share.
    expect(a, JSON.stringify([...s.counts])).toBeGreaterThanOrEqual(27);
    expect(a).toBeLessThanOrEqual(32);
    s.close();
  });

  it('bad weights are usage errors naming the form', async () => {
    for (const w of ['0,1', 'a', '3,,1', '1001']) {
      const r = await runCli(['start', app, '--weights', w]);
      expect(r.code, w).toBe(2);
      expect(r.stderr).toMatch(/for --weights: expected a weight per slot, whole numbers from 1 to 1000 separated by commas, e.g. 3,1,1/);
    }
  });
});
