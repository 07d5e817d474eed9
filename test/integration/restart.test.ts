/**
 * Restarts with backoff and crash-loop detection, with real processes.
 */
import { afterEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { FIXTURES, runCli, startCluster, TEST_RUNTIME_DIR, type Cluster } from '../helpers/cluster.js';
import net from 'node:net';
import { request } from '../helpers/load.js';

const dir = TEST_RUNTIME_DIR;
const env = {};
let cluster: Cluster | undefined;
afterEach(async () => { await cluster?.stop('SIGKILL'); cluster = undefined; });

interface Row { slot: number; state: string; restarts: number; error?: string }

describe('restarts', () => {
  it('a crashing worker is restarted; a crash loop backs off exponentially, then the slot is given up and shown in status', async () => {
    const flag = path.join(dir, 'broken');
    cluster = await startCluster(path.join(FIXTURES, 'crashy.mjs'), { workers: 2, balancer: 'round-robin', env: { ...env, BROKEN_FLAG: flag } });
    const c = cluster;
    // A plain crash: replaced.
    await request(c.port, '/crash', false, 3_000).catch(() => undefined);
    await c.waitForLog((l) => l.msg === 'worker ready' && l.worker === 3);
    // Now the code on disk is broken: the next crash starts a loop of failed starts.
    fs.writeFileSync(flag, '');
    let crashed = false;
    for (let i = 0; i < 4 && !crashed; i++) {
      await request(c.port, '/crash', false, 3_000).catch(() => { crashed = true; });
    }
    expect(crashed).toBe(true);
    await c.waitForLog((l) => l.code === 'SHOAL_ERR_CRASH_LOOP', 20_000);
    const delays = c.logs.filter((l) => l.msg === 'restarting worker').map((l) => l.delayMs as number);
    // First restart after the plain crash, then 100, 200, 400, 800 … for the loop.
    expect(delays.slice(-4)).toEqual([100, 200, 400, 800]);
    const st = JSON.parse((await runCli(['status', '--json', '--name', `test-${c.port}`], { env })).stdout) as { workers: Row[] };
    const failed = st.workers.filter((w) => w.state === 'failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]!.error).toMatch(/broken at start-up/);
    // The other worker still serves.
    expect((await request(c.port, '/', false, 5_000)).status).toBe(200);
    // Fixing the code and reloading fills the failed slot again.
    fs.rmSync(flag);
    const r = await runCli(['reload', '--name', `test-${c.port}`], { env, timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(0);
    const after = JSON.parse((await runCli(['status', '--json', '--name', `test-${c.port}`], { env })).stdout) as { workers: Row[] };
    expect(after.workers.map((w) => w.state)).toEqual(['ready', 'ready']);
  });

  it('while no worker can serve, accepted connections wait in the queue and are served once one can', async () => {
    cluster = await startCluster(path.join(FIXTURES, 'crashy.mjs'), { workers: 1, env });
    const c = cluster;
    await request(c.port, '/crash', false, 3_000).catch(() => undefined);
    // Sent while the only worker is being restarted: never refused, served by the replacement.
    const r = await request(c.port, '/', false, 10_000);
    expect(r.status).toBe(200);
  });

  it('with no worker able to serve, a queued connection is closed cleanly after --queue-timeout, never refused', async () => {
    const flag = path.join(dir, 'broken-queue');
    cluster = await startCluster(path.join(FIXTURES, 'crashy.mjs'), {
      workers: 1, env: { ...env, BROKEN_FLAG: flag }, extraArgs: ['--queue-timeout', '1000'],
    });
    const c = cluster;
    fs.writeFileSync(flag, '');
    await request(c.port, '/crash', false, 3_000).catch(() => undefined);
    await c.waitForLog((l) => l.code === 'SHOAL_ERR_CRASH_LOOP', 20_000);
    const t0 = Date.now();
    const outcome = await new Promise<string>((resolve) => {
      const s = net.connect(c.port, '127.0.0.1');
      let data = '';
      s.on('data', (d) => { data += String(d); });
      s.on('error', (e: NodeJS.ErrnoException) => resolve(`error ${e.code}`));
      s.on('end', () => resolve(`end ${data.length}`));
      s.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    });
    expect(outcome).toBe('end 0'); // accepted, then a clean FIN: not refused, not reset
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
    expect(Date.now() - t0).toBeLessThan(5_000);
    fs.rmSync(flag);
  });
});
