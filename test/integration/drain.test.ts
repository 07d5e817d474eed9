/**
 * Retiring a worker (DESIGN.md point 5), seen through a stop: keep-alive
 * connections are not cut under a client, onShutdown hooks run once the
 * in-flight requests are done.
 */
import { afterEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { FIXTURES, startCluster, waitForInflight, type Cluster } from '../helpers/cluster.js';
import { request } from '../helpers/load.js';

let cluster: Cluster | undefined;
afterEach(async () => { await cluster?.stop('SIGKILL'); cluster = undefined; });

describe('drain', () => {
  it('an idle keep-alive connection is not closed under the client: its next request is answered with Connection: close', async () => {
    cluster = await startCluster(path.join(FIXTURES, 'slow.mjs'), { workers: 1 });
    const c = cluster;
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const first = await request(c.port, '/', agent, 5_000);
    expect(first.headers.connection).toBe('keep-alive');
    // The connection is idle now. Stop, then use it again a moment later.
    c.proc.kill('SIGTERM');
    await c.waitForLog((l) => l.msg === 'stopping');
    await new Promise((r) => setTimeout(r, 200));
    const second = await request(c.port, '/', agent, 5_000);
    expect(second.status).toBe(200);
    expect(second.headers.connection).toBe('close');
    expect((await c.exited).code).toBe(0);
    agent.destroy();
  });

  it('onShutdown hooks run after the in-flight requests are done, before the worker exits', async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'shoal-hook-')), 'hooks.jsonl');
    cluster = await startCluster(path.join(FIXTURES, 'shutdown-hook.mjs'), { workers: 2, env: { HOOK_FILE: file } });
    const c = cluster;
    const slow = Array.from({ length: 4 }, () => request(c.port, '/?ms=800', false, 10_000));
    await waitForInflight(c, 4);
    c.proc.kill('SIGTERM');
    const done = await Promise.all(slow);
    expect(done.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    expect((await c.exited).code).toBe(0);
    const hooks = fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { worker: string; inflight: number });
    expect(hooks.map((h) => h.worker).sort()).toEqual(['1', '2']);
    expect(hooks.every((h) => h.inflight === 0)).toBe(true);
  });
});
