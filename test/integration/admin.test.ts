/**
 * The admin server against a real cluster: its endpoints, the bad inputs
 * it must shrug off without disturbing the cluster, the token, the
 * start-up refusals (usage errors), and /readyz following the cluster
 * (a crash-looping app, a stop).
 */
import { afterEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { clusterStatus, FIXTURES, freePort, runCli, startCluster, type Cluster } from '../helpers/cluster.js';
import { rawExchange, request, statusOf, waitFor } from '../helpers/http.js';
import { adminGet, adminOf, type AdminAt } from '../helpers/admin.js';

const ADMIN = ['--admin', '127.0.0.1:0'];
const TOKEN = 'test-token-0123456789abcdef';

let cluster: Cluster | undefined;
afterEach(async () => { await cluster?.stop('SIGKILL'); cluster = undefined; });

const readyz = async (a: AdminAt): Promise<{ status: number; body: string }> => adminGet(a, '/readyz?verbose');

describe('admin endpoints', () => {
  it('/livez, /readyz (?verbose), /status as status --json prints it, and the index', async () => {
    cluster = await startCluster(path.join(FIXTURES, 'http-esm.mjs'), { workers: 2, extraArgs: ADMIN });
    const c = cluster;
    const a = await adminOf(c);
    expect(a.host).toBe('127.0.0.1');
    expect(a.port).toBeGreaterThan(0);
    expect((await adminGet(a, '/livez')).status).toBe(200);
    const plain = await adminGet(a, '/readyz');
    expect([plain.status, plain.body]).toEqual([200, 'ok\n']);
    expect(await readyz(a)).toMatchObject({ status: 200, body: 'ready: 2 of 2 workers ready\n' });
    expect((await adminGet(a, '/')).body).toMatch(/\/metrics/);

    const viaHttp = await adminGet(a, '/status');
    expect(viaHttp.headers['content-type']).toMatch(/^application\/json/);
    const cli = await runCli(['status', '--json', '--name', `test-${c.port}`]);
    const stable = (j: { ok: boolean; primary: Record<string, unknown>; workers: Record<string, unknown>[] }): unknown => ({
      ok: j.ok,
      keys: Object.keys(j.primary).sort(),
      primary: { pid: j.primary.pid, name: j.primary.name, admin: j.primary.admin, balancer: j.primary.balancer },
      // acceptPaused appears once the worker's acceptor first reports, which may fall between the two reads.
      workers: j.workers.map((w) => ({ keys: Object.keys(w).filter((k) => k !== 'acceptPaused').sort(), slot: w.slot, id: w.id, pid: w.pid, state: w.state })),
    });
    expect(stable(JSON.parse(viaHttp.body))).toEqual(stable(JSON.parse(cli.stdout)));
    expect(JSON.parse(cli.stdout).primary.admin).toBe(`http://127.0.0.1:${a.port}`);
    expect((await runCli(['status', '--name', `test-${c.port}`])).stdout).toContain(`admin http://127.0.0.1:${a.port}`);
  });

  it('bad requests get clean answers (405 with Allow, 404, 431) and disturb nothing', async () => {
    cluster = await startCluster(path.join(FIXTURES, 'http-esm.mjs'), { workers: 2, extraArgs: ADMIN });
    const c = cluster;
    const a = await adminOf(c);
    for (const method of ['POST', 'PUT', 'DELETE', 'OPTIONS']) {
      const r = await adminGet(a, '/metrics', { method, body: method === 'POST' ? 'x'.repeat(10_000) : undefined });
      expect([method, r.status, r.headers.allow]).toEqual([method, 405, 'GET, HEAD']);
    }
    expect((await adminGet(a, '/nope')).status).toBe(404);
    expect((await adminGet(a, '/metricsx')).status).toBe(404);
    expect(statusOf((await rawExchange(a.port, 'GET /../status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 5_000)).data)).toBe(404);
    const head = await adminGet(a, '/livez', { method: 'HEAD' });
    expect([head.status, head.body]).toEqual([200, '']);
    const huge = await rawExchange(a.port, `GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(12 * 1024)}\r\n\r\n`, 5_000);
    expect(statusOf(huge.data)).toBe(431);
    expect((await rawExchange(a.port, 'GARBAGE\r\n\r\n', 5_000)).data).toMatch(/^HTTP\/1\.1 400/);
    // A client that sends half its headers and waits holds nothing up.
    const slow = net.connect(a.port, '127.0.0.1');
    slow.write('GET /metrics HTTP/1.1\r\nHost: x\r\n');
    try {
      expect((await adminGet(a, '/livez')).status).toBe(200);
      expect((await request(c.port, '/')).status).toBe(200);
      expect((await clusterStatus(c)).workers.map((w) => w.state)).toEqual(['ready', 'ready']);
    } finally { slow.destroy(); }
  });

  it('with a token, every request but the health probes needs Authorization: Bearer <token>; the token never shows in status or logs', async () => {
    cluster = await startCluster(path.join(FIXTURES, 'http-esm.mjs'), { workers: 1, extraArgs: ADMIN, env: { SHOAL_ADMIN_TOKEN: TOKEN } });
    const c = cluster;
    const a = await adminOf(c);
    for (const p of ['/metrics', '/status', '/events', '/nope', '/livez/x']) {
      const none = await adminGet(a, p);
      expect([p, none.status, none.headers['www-authenticate']]).toEqual([p, 401, 'Bearer realm="shoal"']);
    }
    // A kubelet's probe carries no secret: the probes answer without it, and say nothing more with a wrong one.
    for (const headers of [{}, { authorization: 'Bearer wrong' }]) {
      expect([(await adminGet(a, '/livez', { headers })).status, (await adminGet(a, '/readyz?verbose', { headers })).body]).toEqual([200, 'ready: 1 of 1 worker ready\n']);
    }
    expect((await adminGet(a, '/livez', { method: 'POST' })).status).toBe(405);
    expect((await adminGet(a, '/status', { headers: { authorization: `Bearer ${TOKEN}x` } })).status).toBe(401);
    expect((await adminGet(a, '/status', { headers: { authorization: TOKEN } })).status).toBe(401);
    expect((await adminGet(a, '/metrics', { method: 'POST' })).status).toBe(401);
    const ok = await adminGet(a, '/status', { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(ok.status).toBe(200);
    expect(ok.body).not.toContain(TOKEN);
    expect((await runCli(['status', '--json', '--name', `test-${c.port}`])).stdout).not.toContain(TOKEN);
    expect(JSON.stringify(c.logs) + c.stderr()).not.toContain(TOKEN);
  });
});

describe('admin start-up refusals', () => {
  const entry = path.join(FIXTURES, 'http-esm.mjs');
  const start = async (args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stderr: string }> =>
    runCli(['start', entry, '--port', String(await freePort()), '--workers', '1', '--name', `adm-${process.pid}`, ...args], { env });

  it('a host reachable from the network without a token is a usage error naming the fix', async () => {
    const r = await start(['--admin', '0.0.0.0:0']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--admin 0\.0\.0\.0:0 is reachable from the network.*SHOAL_ADMIN_TOKEN/);
    const v6 = await start([], { SHOAL_ADMIN: '[::]:0' });
    expect(v6.code).toBe(2);
    expect(v6.stderr).toMatch(/--admin \[::\]:0 is reachable/);
  });

  it('a bad address, a short token and a port in use are usage errors; the token is never printed', async () => {
    for (const bad of ['abc', '70000', '::1:9090', 'host:']) {
      const r = await start(['--admin', bad]);
      expect([bad, r.code]).toEqual([bad, 2]);
      expect(r.stderr).toMatch(/invalid value .* for --admin: expected PORT or HOST:PORT/);
    }
    const short = await start(['--admin', '127.0.0.1:0', '--admin-token', 'sekrit']);
    expect(short.code).toBe(2);
    expect(short.stderr).toMatch(/--admin-token: expected a token of at least 16 characters/);
    expect(short.stderr).not.toContain('sekrit');
    const busy = net.createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    try {
      const port = (busy.address() as net.AddressInfo).port;
      const r = await start(['--admin', `127.0.0.1:${port}`]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`admin port 127.0.0.1:${port} is already in use`);
    } finally { busy.close(); }
  });
});

describe('/readyz follows the cluster', () => {
  it('503 with the reason while no worker can serve (a crash loop), 200 again once fixed', async () => {
    const flag = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'shoal-readyz-')), 'broken');
    cluster = await startCluster(path.join(FIXTURES, 'crashy.mjs'), { workers: 1, extraArgs: ADMIN, env: { BROKEN_FLAG: flag } });
    const c = cluster;
    const a = await adminOf(c);
    fs.writeFileSync(flag, '');
    await request(c.port, '/crash').catch(() => undefined);
    let last = { status: 0, body: '' };
    await waitFor(async () => { last = await readyz(a); return /failed/.test(last.body); }, 15_000, 'slot 1 given up');
    expect(last.status).toBe(503);
    expect(last.body).toMatch(/^not ready: no worker ready \(slot 1 failed: broken at start-up \(crashy fixture\)\)\n$/);
    expect((await adminGet(a, '/readyz')).body).toBe('not ready\n');
    expect((await adminGet(a, '/livez')).status).toBe(200);
    fs.rmSync(flag);
    expect((await runCli(['reload', '--name', `test-${c.port}`])).code).toBe(0);
    expect(await readyz(a)).toMatchObject({ status: 200, body: 'ready: 1 of 1 worker ready\n' });
  });

  it("503 'not ready: stopping' while the cluster drains, /livez still 200", async () => {
    cluster = await startCluster(path.join(FIXTURES, 'slow.mjs'), { workers: 1, extraArgs: ADMIN });
    const c = cluster;
    const a = await adminOf(c);
    const inFlight = request(c.port, '/slow?ms=1500', { timeoutMs: 10_000 });
    await waitFor(async () => (await clusterStatus(c)).workers[0]!.inflight === 1, 5_000, 'the request in flight');
    c.proc.kill('SIGTERM');
    let last = { status: 0, body: '' };
    await waitFor(async () => { last = await readyz(a); return last.status === 503; }, 5_000, 'readyz 503');
    expect(last.body).toBe('not ready: stopping\n');
    expect((await adminGet(a, '/livez')).status).toBe(200);
    expect((await inFlight).status).toBe(200);
    expect((await c.exited).code).toBe(0);
  });
});
