/**
 * Zero failed requests while the cluster is reloaded (rolling replace) or
 * scaled down, under continuous load from clients that count errors,
 * resets, non-2xx and hangs.
 */
import { afterEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FIXTURES, runCli, startCluster, TEST_RUNTIME_DIR, waitForInflight, type Cluster } from '../helpers/cluster.js';
import { request } from '../helpers/http.js';
import { runLoad, type LoadCounts } from '../helpers/load.js';

const dir = TEST_RUNTIME_DIR;
const env = {};
const app = path.join(FIXTURES, 'slow.mjs');
let cluster: Cluster | undefined;
afterEach(async () => { await cluster?.stop('SIGKILL'); cluster = undefined; });

const cli = (c: Cluster, ...args: string[]) => runCli([...args, '--name', `test-${c.port}`], { env, timeoutMs: 60_000 });
const pids = async (c: Cluster): Promise<number[]> =>
  (JSON.parse((await cli(c, 'status', '--json')).stdout) as { workers: { pid: number }[] }).workers.map((w) => w.pid);

function expectClean(counts: LoadCounts): void {
  const detail = counts.errors.join('\n');
  expect(counts.resets, detail).toBe(0);
  expect(counts.hung, detail).toBe(0);
  expect(counts.other, detail).toBe(0);
  expect(counts.refused, detail).toBe(0);
  expect(counts.non2xx, detail).toBe(0);
  expect(counts.ok).toBeGreaterThan(100);
}

describe.each([
  ['keep-alive clients', true, 'kernel', []],
  ['a new connection per request', false, 'kernel', []],
  ['keep-alive clients', true, 'handoff', ['--accept', 'handoff']],
  ['a new connection per request', false, 'handoff', ['--accept', 'handoff']],
] as const)('reload under load, %s (%s accept)', (_label, keepAlive, _mode, extraArgs) => {
  it('three consecutive reloads: zero errors, every worker replaced each time', async () => {
    cluster = await startCluster(app, { workers: 2, env, extraArgs: [...extraArgs] });
    const c = cluster;
    let finish!: () => void;
    const stop = new Promise<void>((r) => { finish = r; });
    const load = runLoad({ port: c.port, path: '/?ms=5', concurrency: 8, keepAlive, timeoutMs: 5_000 }, stop);
    let before = await pids(c);
    // One at a time, then two at once, then one at a time with JSON progress for scripts.
    const variants = [[], ['--parallel', '2'], ['--json']];
    for (const extra of variants) {
      const r = await cli(c, 'reload', ...extra);
      expect(r.code, r.stderr).toBe(0);
      if (extra[0] === '--json') {
        const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { event?: string; ok?: boolean; replaced?: number });
        expect(lines.filter((l) => l.event === 'retired')).toHaveLength(2);
        expect(lines.at(-1)).toMatchObject({ ok: true, replaced: 2 });
      } else {
        expect(r.stdout).toMatch(/slot 1: new worker \d+ ready in \d+ ms/);
        expect(r.stdout).toMatch(/reloaded: 2 workers replaced in \d+\.\d s/);
      }
      const after = await pids(c);
      expect(after.filter((p) => before.includes(p))).toEqual([]);
      before = after;
    }
    finish();
    expectClean(await load);
  });
});

describe.each([['kernel', []], ['handoff', ['--accept', 'handoff']]] as const)('scale under load (%s accept)', (_mode, extraArgs) => {
  it.each([['down', 3, '1'], ['up', 1, '3']] as const)('zero errors while scaling %s (%i workers to %s)', async (_dir, from, to) => {
    cluster = await startCluster(app, { workers: from, env, extraArgs: [...extraArgs] });
    const c = cluster;
    let finish!: () => void;
    const stop = new Promise<void>((r) => { finish = r; });
    const load = runLoad({ port: c.port, path: '/?ms=5', concurrency: 8, keepAlive: true, timeoutMs: 5_000 }, stop);
    const fresh = runLoad({ port: c.port, path: '/?ms=5', concurrency: 4, keepAlive: false, timeoutMs: 5_000 }, stop);
    await new Promise((r) => setTimeout(r, 500));
    expect((await cli(c, 'scale', to)).code).toBe(0);
    await new Promise((r) => setTimeout(r, 500));
    finish();
    expectClean(await load);
    expectClean(await fresh);
    expect((await pids(c)).length).toBe(Number(to));
  });
});

describe('reload failures', () => {
  it('a new worker that fails to start stops the reload; the old workers keep serving', async () => {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'shoal-reload-'));
    const entry = path.join(work, 'app.mjs');
    fs.copyFileSync(app, entry);
    cluster = await startCluster(entry, { workers: 2, env });
    const c = cluster;
    const before = await pids(c);
    fs.writeFileSync(entry, "throw new Error('broken deploy (reload test)');\n");
    const r = await cli(c, 'reload');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/reload stopped, the old workers keep serving: .*broken deploy/);
    expect(await pids(c)).toEqual(before);
    // The primary logs the end of the reload with its reason, as it does for one that succeeds.
    const failed = await c.waitForLog((l) => l.msg === 'reload failed');
    expect(failed).toMatchObject({ level: 50, code: 'SHOAL_ERR_RELOAD_FAILED', replaced: 0, err: expect.stringMatching(/broken deploy/) });
    expect(c.logs.some((l) => l.msg === 'reload done')).toBe(false);
    fs.rmSync(work, { recursive: true, force: true });
  });

  it('a second reload while one runs is refused clearly', async () => {
    cluster = await startCluster(app, { workers: 1, env });
    const c = cluster;
    // A request in flight on the old worker keeps the first reload draining for 3 s: the second
    // one is sure to arrive while it runs, however fast the machine starts the new worker.
    const inflight = request(c.port, '/slow?ms=3000', { timeoutMs: 10_000 });
    await waitForInflight(c, 1);
    const first = cli(c, 'reload');
    await c.waitForLog((l) => l.msg === 'reload: ready');
    const second = await cli(c, 'reload');
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/a reload is already in progress/);
    expect((await first).code).toBe(0);
    expect((await inflight).status).toBe(200);
  });

  it('SIGHUP and shoal reload both log the end of the reload: reload done, with the workers replaced and the time taken', async () => {
    cluster = await startCluster(app, { workers: 2, env });
    const c = cluster;
    const before = await pids(c);
    c.proc.kill('SIGHUP');
    const byHup = await c.waitForLog((l) => l.msg === 'reload done', 30_000);
    expect(byHup).toMatchObject({ replaced: 2, workers: 2, ms: expect.any(Number) });
    const after = await pids(c);
    expect(after.filter((p) => before.includes(p))).toEqual([]);
    expect((await cli(c, 'reload')).code).toBe(0);
    await c.waitForLog((l) => l.msg === 'reload done' && l !== byHup);
    const ends = c.logs.filter((l) => l.msg === 'reload done');
    expect(ends).toHaveLength(2);
    expect(ends[1]).toMatchObject({ replaced: 2, workers: 2, ms: expect.any(Number) });
  });
});
