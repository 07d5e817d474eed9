/**
 * Graceful stop and exit codes, with real processes: SIGTERM/SIGINT let
 * in-flight requests finish and exit 0; a second signal stops at once with
 * 128+signal; workers never outlive their primary.
 */
import { afterEach, describe, expect, it } from 'vitest';
import http from 'node:http';
import path from 'node:path';
import { FIXTURES, isAlive, startCluster, waitForInflight, waitUntilGone, type Cluster } from '../helpers/cluster.js';
import { request } from '../helpers/load.js';
import { statFields } from '../helpers/http.js';

const app = path.join(FIXTURES, 'slow.mjs');
let cluster: Cluster | undefined;
afterEach(async () => { await cluster?.stop('SIGKILL'); cluster = undefined; });

const alive = isAlive;
/** A process's group and session (fields 5 and 6 of /proc/<pid>/stat). */
function sessionOf(pid: number): { pgrp: number; session: number } {
  const f = statFields(pid);
  return { pgrp: Number(f[2]), session: Number(f[3]) };
}
const workerPids = (c: Cluster): number[] => c.logs.filter((l) => l.msg === 'worker forked').map((l) => l.workerPid as number);

describe('graceful stop', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)('%s: in-flight requests finish, new connections are refused, exit 0', async (sig) => {
    cluster = await startCluster(app, { workers: 2 });
    const c = cluster;
    const inflight = Array.from({ length: 6 }, () => request(c.port, '/?ms=1500', false, 10_000));
    await waitForInflight(c, 6);
    c.proc.kill(sig);
    await c.waitForLog((l) => l.msg === 'stopping');
    const refused = await request(c.port, '/', false, 3_000).then(() => 'served', (e: NodeJS.ErrnoException) => e.code);
    const done = await Promise.all(inflight);
    expect(done.map((r) => r.status)).toEqual(Array(6).fill(200));
    expect(refused).toBe('ECONNREFUSED');
    expect(await c.exited).toEqual({ code: 0, signal: null });
    for (const pid of workerPids(c)) expect(alive(pid)).toBe(false);
  });

  it('Ctrl-C on a terminal (SIGINT to the whole process group) still drains gracefully', async () => {
    cluster = await startCluster(app, { workers: 2, ownGroup: true });
    const c = cluster;
    const inflight = Array.from({ length: 4 }, () => request(c.port, '/?ms=1000', false, 10_000));
    await waitForInflight(c, 4);
    process.kill(-c.proc.pid!, 'SIGINT');
    const done = await Promise.all(inflight);
    expect(done.map((r) => r.status)).toEqual(Array(4).fill(200));
    expect(await c.exited).toEqual({ code: 0, signal: null });
    const exits = c.logs.filter((l) => l.msg === 'worker exited');
    expect(exits.map((l) => l.code)).toEqual([0, 0]);
  });

  it('a hang-up (SIGHUP to the whole process group) reloads: no worker dies of it, in-flight requests are answered', async () => {
    cluster = await startCluster(app, { workers: 2, ownGroup: true });
    const c = cluster;
    const inflight = Array.from({ length: 4 }, () => request(c.port, '/?ms=800', false, 10_000));
    await waitForInflight(c, 4);
    process.kill(-c.proc.pid!, 'SIGHUP');
    await c.waitForLog((l) => l.msg === 'reload done', 30_000);
    expect((await Promise.all(inflight)).map((r) => r.status)).toEqual(Array(4).fill(200));
    expect(c.logs.filter((l) => l.msg === 'worker exited unexpectedly')).toEqual([]);
    expect(c.logs.filter((l) => l.msg === 'worker exited').map((l) => l.code)).toEqual([0, 0]);
    expect((await request(c.port, '/', false, 5_000)).status).toBe(200);
  });

  it('workers share the primary\'s session and process group (one scheduling group, as node:cluster\'s)', async () => {
    cluster = await startCluster(app, { workers: 2, ownGroup: true });
    const c = cluster;
    const primary = sessionOf(c.proc.pid!);
    expect(primary).toEqual({ pgrp: c.proc.pid, session: c.proc.pid });
    for (const pid of workerPids(c)) expect(sessionOf(pid)).toEqual(primary);
  });

  it('a keep-alive request in flight during stop is answered with Connection: close', async () => {
    cluster = await startCluster(app, { workers: 1 });
    const c = cluster;
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const first = await request(c.port, '/', agent, 5_000);
    expect(first.headers.connection).toBe('keep-alive');
    const slow = request(c.port, '/?ms=1000', agent, 5_000);
    await waitForInflight(c, 1);
    c.proc.kill('SIGTERM');
    const r = await slow;
    expect(r.status).toBe(200);
    expect(r.headers.connection).toBe('close');
    expect((await c.exited).code).toBe(0);
    agent.destroy();
  });

  it('the stop timeout bounds a request that would never finish; the primary still exits 0', async () => {
    cluster = await startCluster(app, { workers: 1, extraArgs: ['--stop-timeout', '500'] });
    const c = cluster;
    const never = request(c.port, '/?ms=60000', false, 20_000).catch((e: Error) => e);
    await waitForInflight(c, 1);
    const t0 = Date.now();
    c.proc.kill('SIGTERM');
    expect((await c.exited).code).toBe(0);
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(await never).toBeInstanceOf(Error);
  });

  it('a second signal stops at once with exit code 128+signal', async () => {
    cluster = await startCluster(app, { workers: 2 });
    const c = cluster;
    const pending = request(c.port, '/?ms=20000', false, 30_000).catch(() => undefined);
    await waitForInflight(c, 1);
    c.proc.kill('SIGTERM');
    await c.waitForLog((l) => l.msg === 'stopping');
    c.proc.kill('SIGTERM');
    expect(await c.exited).toEqual({ code: 143, signal: null });
    await pending;
    await waitUntilGone(workerPids(c));
  });

  it('workers exit within about a second when the primary is killed with SIGKILL', async () => {
    cluster = await startCluster(app, { workers: 2 });
    const c = cluster;
    const pids = workerPids(c);
    c.proc.kill('SIGKILL');
    await c.exited;
    const t0 = Date.now();
    await waitUntilGone(pids);
    expect(Date.now() - t0).toBeLessThan(1_500);
  });
});

describe('logs', () => {
  it('the primary logs its lifecycle as JSON lines', async () => {
    cluster = await startCluster(app, { workers: 2, balancer: 'round-robin' });
    const c = cluster;
    const pid = workerPids(c)[0]!;
    process.kill(pid, 'SIGKILL');
    const exited = await c.waitForLog((l) => l.msg === 'worker exited unexpectedly');
    expect(exited).toMatchObject({ workerPid: pid, signal: 'SIGKILL', exitCode: 137, level: 40 });
    await c.waitForLog((l) => l.msg === 'worker ready' && l.worker === 3);
    expect(c.logs.find((l) => l.msg === 'scheduler chosen')).toMatchObject({ balancer: 'round-robin' });
    expect(c.logs.filter((l) => l.msg === 'worker forked')).toHaveLength(3);
    for (const l of c.logs.filter((x) => x.msg === 'worker ready')) expect(typeof l.ms).toBe('number');
    expect((await c.stop()).code).toBe(0);
    expect(c.logs.filter((l) => l.msg === 'worker exited').length).toBe(2);
  });
});
