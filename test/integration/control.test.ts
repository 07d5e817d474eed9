/**
 * The control socket and the commands that use it, against a real cluster:
 * status, scale, stop, and what garbage on the socket does (nothing).
 */
import { afterEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { FIXTURES, runCli, startCluster, TEST_RUNTIME_DIR, waitForInflight, type Cluster } from '../helpers/cluster.js';
import { request } from '../helpers/load.js';

const dir = TEST_RUNTIME_DIR;
const env = {};
const app = path.join(FIXTURES, 'slow.mjs');
let cluster: Cluster | undefined;
afterEach(async () => { await cluster?.stop('SIGKILL'); cluster = undefined; });

const nameOf = (c: Cluster): string => `test-${c.port}`;
const cli = (c: Cluster, ...args: string[]) => runCli([...args, '--name', nameOf(c)], { env });
interface Status { primary: { pid: number; balancer: string; queued: number }; workers: { slot: number; pid: number; state: string; restarts: number }[] }
const status = async (c: Cluster): Promise<Status> => {
  const r = await cli(c, 'status', '--json');
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Status;
};

function rawControl(c: Cluster, payload: string | Buffer, end = true): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(path.join(dir, `${nameOf(c)}.sock`));
    let data = '';
    s.setEncoding('utf8');
    s.on('data', (d: string) => { data += d; });
    s.on('close', () => resolve(data));
    s.on('error', reject);
    s.write(payload);
    if (end) s.end();
  });
}

describe('control', () => {
  it('status shows every worker and the primary; the socket is owner-only', async () => {
    cluster = await startCluster(app, { workers: 2, env });
    const st = await status(cluster);
    expect(st.primary).toMatchObject({ pid: cluster.proc.pid, balancer: 'least-conn', queued: 0 });
    expect(st.workers.map((w) => [w.slot, w.state, w.restarts])).toEqual([[1, 'ready', 0], [2, 'ready', 0]]);
    expect(fs.statSync(path.join(dir, `${nameOf(cluster)}.sock`)).mode & 0o777).toBe(0o600);
    const table = await cli(cluster, 'status');
    expect(table.stdout).toMatch(/slot\s+id\s+pid\s+state\s+uptime\s+restarts\s+conns\s+inflight\s+req\/s\s+elu\s+memory/);
    expect(table.stdout.split('\n').filter((l) => /^\d+\s+\d+\s+\d+\s+ready/.test(l))).toHaveLength(2);
  });

  it('scale N, +N and -N change the worker count; scale down serves every request', async () => {
    cluster = await startCluster(app, { workers: 1, env });
    const c = cluster;
    expect((await cli(c, 'scale', '3')).stdout).toMatch(/scaled from 1 to 3/);
    expect((await status(c)).workers.map((w) => w.state)).toEqual(['ready', 'ready', 'ready']);
    const inflight = Array.from({ length: 6 }, () => request(c.port, '/?ms=500', false, 10_000));
    await waitForInflight(c, 6);
    expect((await cli(c, 'scale', '-2')).stdout).toMatch(/scaled from 3 to 1/);
    expect((await Promise.all(inflight)).map((r) => r.status)).toEqual(Array(6).fill(200));
    expect((await status(c)).workers).toHaveLength(1);
    expect((await cli(c, 'scale', '+1')).code).toBe(0);
    expect((await status(c)).workers).toHaveLength(2);
    // Bad input, though the primary is what refuses it: a usage error, exit 2.
    const bad = await cli(c, 'scale', '0');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/invalid value '0' for scale/);
  });

  it('scale past twice the CPUs warns in one line on stderr and in the log, then does it', async () => {
    // One CPU for the primary, so twice the CPUs is 2 on any machine.
    cluster = await startCluster(app, { workers: 1, env, via: ['taskset', '-c', '0'] });
    const c = cluster;
    const two = await cli(c, 'scale', '2');
    expect(two.stderr).toBe('');
    const three = await cli(c, 'scale', '+1');
    expect(three.code, three.stderr).toBe(0);
    const warning = '3 workers is more than twice the 1 CPU this host lets shoal use: they will compete for CPU time, and one per CPU is usually best';
    expect(three.stderr).toBe(`shoal: warning: ${warning}\n`);
    expect(three.stdout).toBe('scaled from 2 to 3 workers\n');
    expect((await status(c)).workers.map((w) => w.state)).toEqual(['ready', 'ready', 'ready']);
    expect(await c.waitForLog((l) => l.msg === warning)).toMatchObject({ level: 40, workers: 3, cpus: 1 });
    expect(c.logs.filter((l) => l.msg === warning)).toHaveLength(1);
  });

  it('stop returns once the cluster has stopped', async () => {
    cluster = await startCluster(app, { workers: 2, env });
    const c = cluster;
    const slow = request(c.port, '/?ms=700', false, 10_000);
    await waitForInflight(c, 1);
    const r = await cli(c, 'stop');
    expect(r.code, r.stderr).toBe(0);
    expect(c.proc.exitCode ?? (await c.exited).code).toBe(0);
    expect((await slow).status).toBe(200);
    expect(fs.existsSync(path.join(dir, `${nameOf(c)}.sock`))).toBe(false);
  });

  it('a command with no cluster running says so and exits non-zero', async () => {
    const r = await runCli(['status', '--name', 'nothing-here'], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no shoal cluster named 'nothing-here' is running/);
  });

  it('without --name, the only live cluster is found; a stale socket left by a killed primary is ignored and removed', async () => {
    const dead = await startCluster(app, { workers: 1, env });
    const stale = path.join(dir, `${nameOf(dead)}.sock`);
    dead.proc.kill('SIGKILL');
    await dead.exited;
    expect(fs.existsSync(stale)).toBe(true);
    cluster = await startCluster(app, { workers: 1, env });
    const r = await runCli(['status', '--json'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as Status).primary.pid).toBe(cluster.proc.pid);
    expect(fs.existsSync(stale)).toBe(false);
  });

  it('a second cluster with the same name is refused', async () => {
    cluster = await startCluster(app, { workers: 1, env });
    const r = await runCli(['start', app, '--workers', '1', '--port', '0', '--name', nameOf(cluster)], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/a cluster named 'test-\d+' is already running/);
  });

  it('hosts of one app started from one folder without --name run side by side: the second takes the port into its name', async () => {
    const own = { SHOAL_RUNTIME_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'shoal-names-')) };
    const first = await startCluster(app, { workers: 1, env: own, defaultName: true });
    try {
      const second = await startCluster(app, { workers: 1, env: own, defaultName: true });
      try {
        expect(second.logs.some((l) => l.msg === `a running cluster is named 'fixtures': this one is 'fixtures-${second.port}' (pick one with --name)`)).toBe(true);
        for (const [name, c] of [['fixtures', first], [`fixtures-${second.port}`, second]] as const) {
          const r = await runCli(['status', '--json', '--name', name], { env: own });
          expect(r.code, r.stderr).toBe(0);
          expect((JSON.parse(r.stdout) as Status).primary.pid).toBe(c.proc.pid);
        }
      } finally { await second.stop('SIGKILL'); }
    } finally { await first.stop('SIGKILL'); }
  });

  it('garbage, oversized and half-written input gets an error reply and disturbs nothing', async () => {
    cluster = await startCluster(app, { workers: 2, env });
    const c = cluster;
    expect(JSON.parse(await rawControl(c, 'not json\n'))).toMatchObject({ ok: false, code: 'SHOAL_ERR_CONTROL_BAD_REQUEST' });
    expect(JSON.parse(await rawControl(c, '{"cmd":"format-disk"}\n'))).toMatchObject({ ok: false, error: expect.stringMatching(/unknown command/) });
    expect(JSON.parse(await rawControl(c, '[1,2]\n'))).toMatchObject({ ok: false });
    expect(JSON.parse(await rawControl(c, '{"cmd":"scale","to":"lots"}\n'))).toMatchObject({ ok: false });
    expect(JSON.parse(await rawControl(c, Buffer.alloc(200_000, 'x'), false))).toMatchObject({ ok: false, error: expect.stringMatching(/larger than/) });
    expect(JSON.parse(await rawControl(c, '{"cmd":"sta'))).toMatchObject({ ok: false, error: expect.stringMatching(/ended before a full line/) });
    expect(JSON.parse(await rawControl(c, Buffer.from([0xff, 0xfe, 0x00, 0x0a])))).toMatchObject({ ok: false });
    // Nothing was disturbed: same workers, no restarts, still serving.
    const st = await status(c);
    expect(st.workers.map((w) => [w.state, w.restarts])).toEqual([['ready', 0], ['ready', 0]]);
    expect((await request(c.port, '/', false, 5_000)).status).toBe(200);
  });
});
