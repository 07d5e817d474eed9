/**
 * Kernel accept (issue 12) with real processes and sockets: the workers
 * accept from the shared socket themselves, gated by load, and every
 * guarantee of the handoff holds. Where a guarantee concerns both modes,
 * the case runs in both.
 */
import { afterEach, describe, expect, it } from 'vitest';
import http from 'node:http';
import path from 'node:path';
import { clusterStatus, FIXTURES, runCli, startCluster, waitForStatus, type Cluster } from '../helpers/cluster.js';
import { rawExchange } from '../helpers/http.js';
import { failures, request, runLoad } from '../helpers/load.js';
import { addCounts, imbalance, spread } from '../helpers/spread.js';

const app = path.join(FIXTURES, 'blocking.mjs');
let cluster: Cluster | undefined;
afterEach(async () => { await cluster?.stop('SIGKILL'); cluster = undefined; });

const MODES = [['kernel', []], ['handoff', ['--accept', 'handoff']]] as const;
const ids = (n: number): string[] => Array.from({ length: n }, (_, i) => String(i + 1));
const workerOf = (body: string): string => (JSON.parse(body) as { worker: string }).worker;

/**
 * Blocks the event loop of a worker for `ms`: worker 1 (retrying until the request lands there),
 * or with `any` whichever worker takes it. The app sends its headers before it blocks, so this
 * resolves once the block has begun; `done` settles when the request completes. (Wrapped in an
 * object: a promise resolved with a promise would wait for it.)
 */
function blockOne(c: Cluster, ms: number, any = false): Promise<{ done: Promise<void> }> {
  const attempt = (left: number): Promise<{ done: Promise<void> }> => new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port: c.port, path: `/block?ms=${ms}${any ? '&any=1' : ''}`, agent: false }, (res) => {
      const done = new Promise<void>((r) => { res.resume(); res.on('end', r); res.on('error', () => r()); res.on('close', () => r()); });
      if (res.headers['x-blocking'] === '1') resolve({ done });
      else if (left > 0) void done.then(() => attempt(left - 1)).then(resolve, reject);
      else reject(new Error('no worker blocked on /block'));
    });
    req.on('error', reject);
  });
  return attempt(10);
}

describe('accept mode: start-up log, status, switch', () => {
  it('least-conn and least-load default to kernel; the log and status say so', async () => {
    for (const balancer of ['least-conn', 'least-load']) {
      cluster = await startCluster(app, { workers: 2, balancer });
      const c = cluster;
      expect(c.logs.find((l) => l.msg === 'shoal starting')).toMatchObject({ accept: 'kernel' });
      await c.waitForLog((l) => l.msg === 'accept mode: kernel (workers accept from the shared socket, gated by load)');
      const st = await clusterStatus(c);
      expect(st.primary).toMatchObject({ accept: 'kernel', balancer });
      await c.stop();
    }
    cluster = undefined;
  });

  it('--accept handoff, SHOAL_ACCEPT and the config key choose the handoff; per-connection balancers keep it', async () => {
    const cases = [
      { extraArgs: ['--accept', 'handoff'] },
      { env: { SHOAL_ACCEPT: 'handoff' } },
      { balancer: 'round-robin' },
      { balancer: 'ip-hash' },
    ];
    for (const o of cases) {
      cluster = await startCluster(app, { workers: 1, ...o });
      await cluster.waitForLog((l) => l.msg === 'accept mode: handoff (the primary accepts and hands each connection to a worker)');
      expect((await clusterStatus(cluster)).primary.accept).toBe('handoff');
      await cluster.stop();
    }
    cluster = undefined;
  });

  it('bad --accept values are usage errors naming the fix', async () => {
    const rr = await runCli(['start', app, '--accept', 'kernel', '--balancer', 'round-robin']);
    expect(rr.code).toBe(2);
    expect(rr.stderr).toMatch(/invalid value 'kernel' for --accept: expected handoff with --balancer round-robin, which decides per connection \(kernel accept works with least-conn and least-load\)/);
    const bad = await runCli(['start', app, '--accept', 'fast']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/invalid value 'fast' for --accept: expected kernel or handoff/);
    const env = await runCli(['start', app], { env: { SHOAL_ACCEPT: 'sideways' } });
    expect(env.code).toBe(2);
    expect(env.stderr).toMatch(/invalid value 'sideways' for SHOAL_ACCEPT/);
  });
});

describe('kernel accept: the primary leaves the connection path', () => {
  it('under new-connection load the workers accept; the primary hands nothing over', async () => {
    cluster = await startCluster(app, { workers: 2 });
    const c = cluster;
    await c.waitForLog((l) => l.msg?.startsWith('accept mode: kernel') === true);
    const before = (await clusterStatus(c)).primary;
    let finish!: () => void;
    const stop = new Promise<void>((r) => { finish = r; });
    const load = runLoad({ port: c.port, concurrency: 8, keepAlive: false, maxPerLoop: 50, timeoutMs: 5_000 }, stop);
    const counts = await load;
    finish();
    expect(counts.ok).toBe(400);
    const after = await waitForStatus(c, (s) => Number(s.primary.kernelAccepted) >= Number(before.kernelAccepted) + 400, 'the workers to report 400 accepts');
    expect(after.primary.accepted).toBe(before.accepted);
    expect(after.primary.handedOff).toBe(before.handedOff);
    expect(counts.workers).toEqual(new Set(['1', '2']));
  });
});

describe('kernel accept: balance', () => {
  it.each(['least-conn', 'least-load'])('%s: keep-alive connections opened one by one over 4 workers end within 1.25x; a burst of 100 puts none above 35%%', async (balancer) => {
    cluster = await startCluster(app, { workers: 4, balancer });
    const c = cluster;
    await c.waitForLog((l) => l.msg?.startsWith('accept mode: kernel') === true);
    const seq = await spread(c.port, 100, 'one-by-one');
    expect(imbalance(seq.counts, ids(4)), JSON.stringify([...seq.counts])).toBeLessThanOrEqual(1.25);
    seq.close();
    await waitForStatus(c, (s) => s.workers.every((w) => w.connections === 0), 'the connections to close');
    const burst = await spread(c.port, 100, 'burst');
    expect(Math.max(...burst.counts.values()), JSON.stringify([...burst.counts])).toBeLessThanOrEqual(35);
    expect([...burst.counts.values()].reduce((a, b) => a + b, 0)).toBe(100);
    burst.close();
  });
});

describe.each(MODES)('%s mode: slow start', (_mode, extraArgs) => {
  it('workers of the cluster start take their full share at once, even when one becomes ready later', async () => {
    // Worker 2 listens 800 ms after worker 1: with a ramp from each one's own start, worker 1 would
    // weigh about 3x worker 2 when the connections arrive.
    cluster = await startCluster(app, { workers: 2, extraArgs: [...extraArgs], env: { LISTEN_DELAY_MS: '800' } });
    const s = await spread(cluster.port, 40, 'one-by-one');
    expect(imbalance(s.counts, ids(2)), JSON.stringify([...s.counts])).toBeLessThanOrEqual(1.25);
    s.close();
  });

  it('a worker that joins a running pool ramps up instead of taking every new connection', async () => {
    cluster = await startCluster(app, { workers: 2, extraArgs: [...extraArgs] });
    const c = cluster;
    const first = await spread(c.port, 40, 'one-by-one');
    expect((await runCli(['scale', '3', '--name', `test-${c.port}`])).code).toBe(0);
    // Least connections without a ramp would give the newcomer (0 connections) nearly all of the next 30.
    const next = await spread(c.port, 30, 'one-by-one');
    expect(next.counts.get('3') ?? 0, JSON.stringify([...next.counts])).toBeLessThanOrEqual(10);
    expect(next.counts.get('3') ?? 0, 'the newcomer got nothing at all').toBeGreaterThan(0);
    expect([...addCounts(first.counts, next.counts).values()].reduce((a, b) => a + b, 0)).toBe(70);
    first.close();
    next.close();
  });
});

describe('kernel accept: stop', () => {
  it('while a blocked worker holds its descriptor of the port past --stop-timeout, new connections are taken by the primary and served: none reset', async () => {
    // If the primary closed its descriptor first, connections would queue on the blocked worker's
    // until it is killed, and be reset then.
    cluster = await startCluster(app, { workers: 2, extraArgs: ['--hang-timeout', '20000', '--stop-timeout', '1500'] });
    const c = cluster;
    await c.waitForLog((l) => l.msg?.startsWith('accept mode: kernel') === true);
    const blocked = await blockOne(c, 8000);
    const killed = c.waitForLog((l) => typeof l.msg === 'string' && l.msg.startsWith('worker did not close its descriptor of the port in time'), 10_000);
    // The load ends when the blocked worker is killed, just before the port closes.
    const load = runLoad({ port: c.port, concurrency: 4, keepAlive: false, timeoutMs: 10_000 }, killed);
    await new Promise((r) => setTimeout(r, 300));
    c.proc.kill('SIGTERM');
    const counts = await load;
    expect(failures(counts), counts.errors.join('\n')).toBe(0);
    // About 1.5 s of load through the primary while the port is closing.
    expect(counts.ok).toBeGreaterThan(100);
    expect((await c.exited).code).toBe(0);
    await blocked.done;
  });
});

describe.each(['least-conn', 'least-load'])('kernel accept (%s): faults', (balancer) => {
  it('a worker with a blocked event loop receives at most a couple of connections; the rest are served at once elsewhere', async () => {
    cluster = await startCluster(app, { workers: 2, balancer, extraArgs: ['--hang-timeout', '20000'] });
    const c = cluster;
    await c.waitForLog((l) => l.msg?.startsWith('accept mode: kernel') === true);
    const blocked = await blockOne(c, 3000);
    const t0 = Date.now();
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) =>
      new Promise((r) => setTimeout(r, i * 20)).then(() => request(c.port, '/', false, 10_000))));
    expect(results.every((r) => r.status === 200)).toBe(true);
    const onBlocked = results.filter((r) => workerOf(r.body) === '1').length;
    expect(onBlocked).toBeLessThanOrEqual(2);
    // Served while worker 1 was still blocked: nothing waited for it.
    expect(Date.now() - t0).toBeLessThan(2_500);
    await blocked.done;
  });

  it('with every worker blocked, connections wait in the kernel and are served once one can', async () => {
    cluster = await startCluster(app, { workers: 2, balancer, extraArgs: ['--hang-timeout', '20000'] });
    const c = cluster;
    await c.waitForLog((l) => l.msg?.startsWith('accept mode: kernel') === true);
    const a = await blockOne(c, 1500, true);
    const b = await blockOne(c, 1500, true);
    const waiting = await Promise.all(Array.from({ length: 6 }, () => request(c.port, '/', false, 10_000).catch((e: Error) => e)));
    for (const r of waiting) expect(r).toMatchObject({ status: 200 });
    await Promise.all([a.done, b.done]);
  });

  it('with every worker hung past --hang-timeout, the primary takes the waiting connections: served on return, or closed cleanly after --queue-timeout', async () => {
    cluster = await startCluster(app, { workers: 2, balancer, extraArgs: ['--hang-timeout', '400', '--hang-grace', '30000', '--queue-timeout', '1000'] });
    const c = cluster;
    await c.waitForLog((l) => l.msg?.startsWith('accept mode: kernel') === true);
    // Both blocked for 4 s: past the queue timeout, a waiting connection is closed with a FIN.
    const a = await blockOne(c, 4000, true);
    const b = await blockOne(c, 4000, true);
    await c.waitForLog((l) => l.msg === 'worker is not responding (event loop blocked?); no new connections go to it' && l.worker === 2, 5_000);
    await c.waitForLog((l) => l.msg === 'worker is not responding (event loop blocked?); no new connections go to it' && l.worker === 1, 5_000);
    const r = await rawExchange(c.port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n', 10_000);
    // Accepted, then a clean FIN once the queue timeout passed: not refused, not reset, not served.
    expect(r).toMatchObject({ data: '', closed: true, error: undefined });
    expect(r.elapsedMs).toBeGreaterThanOrEqual(900);
    await Promise.all([a.done, b.done]);
    // Back in rotation: served again, by the workers' own acceptors.
    await c.waitForLog((l) => l.msg === 'worker is responding again; back in rotation');
    expect((await request(c.port, '/', false, 5_000)).status).toBe(200);
  });
});

describe.each(MODES)('%s mode: nothing waiting in the queue is reset', (_mode, extraArgs) => {
  it('stop with a worker blocked past --stop-timeout: every request sent before the stop is served by the others', async () => {
    // In handoff mode the blocked worker holds up to the credit window of handoffs it cannot take;
    // in kernel mode it holds a descriptor of the port. Either way the others serve what it cannot.
    cluster = await startCluster(app, { workers: 2, extraArgs: ['--hang-timeout', '20000', '--stop-timeout', '1500', ...extraArgs] });
    const c = cluster;
    const blocked = await blockOne(c, 8000);
    let signalled!: () => void;
    const load = runLoad({ port: c.port, concurrency: 4, keepAlive: false, timeoutMs: 10_000 }, new Promise<void>((r) => { signalled = r; }));
    await new Promise((r) => setTimeout(r, 300));
    signalled();
    c.proc.kill('SIGTERM');
    const counts = await load;
    expect(failures(counts), counts.errors.join('\n')).toBe(0);
    expect(counts.ok).toBeGreaterThan(20);
    expect((await c.exited).code).toBe(0);
    await blocked.done;
  });

  it.each(['stop', 'reload'])('%s while connections wait for a blocked worker: every one is served', async (cmd) => {
    cluster = await startCluster(app, { workers: 1, extraArgs: ['--hang-timeout', '20000', ...extraArgs] });
    const c = cluster;
    const blocked = await blockOne(c, 1500);
    const waiting = Array.from({ length: 10 }, () => request(c.port, '/', false, 15_000).then((r) => r.status, (e: NodeJS.ErrnoException) => e.code ?? e.message));
    // Give the connections time to reach the kernel's queue (they cannot be accepted: the worker is blocked).
    await new Promise((r) => setTimeout(r, 200));
    const op = cmd === 'stop' ? c.stop('SIGTERM', 30_000) : runCli(['reload', '--name', `test-${c.port}`], { timeoutMs: 30_000 });
    expect(await Promise.all(waiting)).toEqual(Array(10).fill(200));
    await blocked.done;
    const r = await op;
    expect(r.code).toBe(0);
  });
});
