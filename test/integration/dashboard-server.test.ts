/**
 * The dashboard's server side against a real cluster (no browser): the
 * page and its files, the event stream (headers, history then samples,
 * released when the client goes, bounded in number, no obstacle to a stop),
 * the sign-in, and the actions' guards (read-only without a token, CSRF,
 * methods). The page itself is tested in Chromium (dashboard.test.ts).
 */
import { afterEach, describe, expect, it } from 'vitest';
import path from 'node:path';
import { FIXTURES, runCli, startCluster, type Cluster } from '../helpers/cluster.js';
import { adminGet, adminOf, type AdminAt } from '../helpers/admin.js';
import { request } from '../helpers/http.js';
import { openEvents, type SseStream } from '../helpers/sse.js';
import { MAX_STREAMS } from '../../runtime/dashboard/stream.js';

const ADMIN = ['--admin', '127.0.0.1:0'];
const TOKEN = 'dash-token-0123456789abcdef';
const BEARER = { authorization: `Bearer ${TOKEN}` };
const ACTION = { 'x-shoal-action': '1', 'content-type': 'application/json' };

let cluster: Cluster | undefined;
const streams: SseStream[] = [];
afterEach(async () => {
  for (const s of streams.splice(0)) s.close();
  await cluster?.stop('SIGKILL');
  cluster = undefined;
});

const start = async (token: boolean): Promise<AdminAt> => {
  cluster = await startCluster(path.join(FIXTURES, 'http-esm.mjs'), { workers: 2, extraArgs: ADMIN, env: token ? { SHOAL_ADMIN_TOKEN: TOKEN } : {} });
  return adminOf(cluster);
};

describe('dashboard: page and stream', () => {
  it('GET / is the page for a browser, the text index otherwise; its files come from this server only', async () => {
    const a = await start(false);
    const page = await adminGet(a, '/', { headers: { accept: 'text/html,application/xhtml+xml' } });
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['content-security-policy']).toContain("default-src 'none'");
    const refs = [...page.body.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(refs.sort()).toEqual(['/assets/app.js', '/assets/style.css', 'data:,']);
    refs.pop();
    for (const ref of refs) expect((await adminGet(a, ref)).status).toBe(200);
    const js = await adminGet(a, '/assets/app.js');
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    // The only URL in the scripts is SVG's namespace, a name that is never fetched.
    const scripts = js.body + (await adminGet(a, '/assets/chart.js')).body + (await adminGet(a, '/assets/format.js')).body;
    expect(scripts.replaceAll('http://www.w3.org/2000/svg', '')).not.toMatch(/https?:\/\//);
    expect((await adminGet(a, '/')).body).toMatch(/\/metrics/);
  });

  it('/events: event-stream headers, info, history, then a sample a second with every worker; a closed page is released', async () => {
    const a = await start(false);
    const s = await openEvents(a);
    streams.push(s);
    expect(s.status).toBe(200);
    expect(s.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(s.headers['cache-control']).toBe('no-store');
    const head = await adminGet(a, '/events', { method: 'HEAD' });
    expect([head.status, head.headers['content-type']]).toEqual([200, 'text/event-stream; charset=utf-8']);
    await s.waitFor((e) => e.event === 'sample' && JSON.parse(e.data).point !== undefined);
    expect(s.events.slice(0, 2).map((e) => e.event)).toEqual(['info', 'history']);
    expect(JSON.parse(s.events[0]!.data)).toEqual({ actions: false, version: expect.any(String) });
    const samples = (): number => s.events.filter((e) => e.event === 'sample').length;
    const n = samples();
    await s.waitFor(() => samples() >= n + 2, 5_000);
    const last = JSON.parse(s.events.filter((e) => e.event === 'sample').at(-1)!.data);
    expect(last.state.workers.map((w: { slot: number }) => w.slot)).toEqual([1, 2]);
    expect(last.point.w).toHaveLength(2);
    // A page opened later gets the points so far at once.
    const later = await openEvents(a);
    streams.push(later);
    const history = JSON.parse((await later.waitFor((e) => e.event === 'history')).data);
    expect(history.points.length).toBeGreaterThanOrEqual(2);

    // MAX_STREAMS at once; one more is refused; closed ones are released for new ones.
    const many = await Promise.all(Array.from({ length: MAX_STREAMS - 2 }, () => openEvents(a)));
    streams.push(...many);
    expect(many.every((m) => m.status === 200)).toBe(true);
    const over = await openEvents(a);
    streams.push(over);
    expect(over.status).toBe(503);
    for (const m of many) m.close();
    await waitForOpen(a);
  });

  it('shoal stop ends promptly with a page open, and the stream ends with it', async () => {
    const a = await start(false);
    const s = await openEvents(a);
    streams.push(s);
    await s.waitFor((e) => e.event === 'sample');
    const t0 = Date.now();
    const r = await runCli(['stop', '--name', `test-${cluster!.port}`]);
    expect(r.code).toBe(0);
    await Promise.all([s.ended, cluster!.exited]);
    expect(Date.now() - t0).toBeLessThan(5_000);
  });
});

/** A stream slot is free again: a new stream is accepted (the server releases closed ones on their close event). */
async function waitForOpen(a: AdminAt): Promise<void> {
  for (;;) {
    const s = await openEvents(a);
    streams.push(s);
    if (s.status === 200) return;
    s.close();
    await s.ended;
  }
}

describe('dashboard: sign-in and actions', () => {
  it('read-only without a token: actions 403, GET on an action 405 with Allow: POST', async () => {
    const a = await start(false);
    const r = await adminGet(a, '/actions/reload', { method: 'POST', headers: ACTION, body: '{}' });
    expect([r.status, JSON.parse(r.body).error]).toEqual([403, expect.stringMatching(/read-only/)]);
    const get = await adminGet(a, '/actions/reload');
    expect([get.status, get.headers.allow]).toEqual([405, 'POST']);
    expect((await adminGet(a, '/', { method: 'POST' })).headers.allow).toBe('GET, HEAD');
  });

  it('with a token: sign-in sets an HttpOnly SameSite=Strict cookie, wrong token 401, CSRF refused 403, reload and scale run', async () => {
    const a = await start(true);
    const signIn = await adminGet(a, '/', { headers: { accept: 'text/html' } });
    expect([signIn.status, signIn.body]).toEqual([401, expect.stringContaining('<form method="post" action="/signin">')]);
    const wrong = await adminGet(a, '/signin', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `token=${TOKEN}x` });
    expect([wrong.status, wrong.body]).toEqual([401, expect.stringContaining('Wrong token')]);
    expect((await adminGet(a, `/?token=${TOKEN}x`)).status).toBe(401);
    const ok = await adminGet(a, '/signin', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `token=${TOKEN}` });
    expect([ok.status, ok.headers.location]).toEqual([303, '/']);
    const cookie = String(ok.headers['set-cookie']);
    expect(cookie).toMatch(/^shoal_admin=[0-9a-f]{64}; HttpOnly; SameSite=Strict; Path=\/; Max-Age=\d+$/);
    expect(cookie).not.toContain(TOKEN);
    const jar = { cookie: cookie.split(';')[0]! };
    expect((await adminGet(a, '/status', { headers: jar })).status).toBe(200);
    expect((await adminGet(a, '/status', { headers: { cookie: 'shoal_admin=00' } })).status).toBe(401);
    const link = await adminGet(a, `/?token=${TOKEN}`);
    expect([link.status, link.headers.location]).toEqual([303, '/']);

    const s = await openEvents(a, jar);
    streams.push(s);
    expect(JSON.parse((await s.waitFor((e) => e.event === 'info')).data).actions).toBe(true);
    expect((await openEvents(a)).status).toBe(401);

    // CSRF: no custom header, a foreign Origin, or a cross-site fetch are refused.
    const asBrowser = { ...jar, host: `${a.host}:${a.port}` };
    for (const h of [{ 'content-type': 'application/json' }, { ...ACTION, origin: 'http://evil.example' }, { ...ACTION, 'sec-fetch-site': 'cross-site' }]) {
      expect((await adminGet(a, '/actions/reload', { method: 'POST', headers: { ...asBrowser, ...h }, body: '{}' })).status).toBe(403);
    }
    const before = (await clusterIds(a)).join();
    const reload = await adminGet(a, '/actions/reload', { method: 'POST', headers: { ...asBrowser, ...ACTION, origin: `http://${a.host}:${a.port}` }, body: '{}', timeoutMs: 30_000 });
    expect([reload.status, JSON.parse(reload.body)]).toEqual([200, expect.objectContaining({ ok: true, replaced: 2 })]);
    expect((await clusterIds(a)).join()).not.toBe(before);
    await s.waitFor((e) => e.event === 'mark' && JSON.parse(e.data).kind === 'reload-done');

    const bad = await adminGet(a, '/actions/scale', { method: 'POST', headers: { ...BEARER, ...ACTION }, body: '{"to":"0"}' });
    expect([bad.status, JSON.parse(bad.body).code]).toEqual([400, 'SHOAL_ERR_BAD_VALUE']);
    const scale = await adminGet(a, '/actions/scale', { method: 'POST', headers: { ...BEARER, ...ACTION }, body: '{"to":3}', timeoutMs: 30_000 });
    expect([scale.status, JSON.parse(scale.body)]).toEqual([200, expect.objectContaining({ ok: true, from: 2, to: 3 })]);
    // One at a time: a reload asked for while a scale runs is refused with 409.
    const [, busy] = await Promise.all([
      adminGet(a, '/actions/scale', { method: 'POST', headers: { ...BEARER, ...ACTION }, body: '{"to":2}', timeoutMs: 30_000 }),
      adminGet(a, '/actions/reload', { method: 'POST', headers: { ...BEARER, ...ACTION }, body: '{}', timeoutMs: 30_000 }),
    ]);
    expect([busy.status, JSON.parse(busy.body).code]).toEqual([409, 'SHOAL_ERR_BUSY']);
    expect(JSON.stringify(cluster!.logs) + cluster!.stderr()).not.toContain(TOKEN);
  });
});

async function clusterIds(a: AdminAt): Promise<number[]> {
  return (JSON.parse((await adminGet(a, '/status', { headers: BEARER })).body) as { workers: { id: number }[] }).workers.map((w) => w.id);
}

describe('dashboard: marks as they happen', () => {
  const markOf = (s: SseStream, kind: string): Promise<{ kind: string; text: string }> =>
    s.waitFor((e) => e.event === 'mark' && JSON.parse(e.data).kind === kind, 20_000).then((e) => JSON.parse(e.data));

  it('a hung worker is marked, then its kill and restart', async () => {
    cluster = await startCluster(path.join(FIXTURES, 'blocking.mjs'), { workers: 1, extraArgs: [...ADMIN, '--hang-timeout', '1000', '--hang-grace', '2000'] });
    const s = await openEvents(await adminOf(cluster));
    streams.push(s);
    const blocked = request(cluster.port, '/block?ms=60000&any=1', { timeoutMs: 30_000 }).catch((e: Error) => e);
    expect((await markOf(s, 'hang')).text).toBe('worker 1 (slot 1) not responding');
    expect((await markOf(s, 'restart')).text).toBe('hung worker killed, restarted (slot 1)');
    expect(await blocked).toBeInstanceOf(Error);
  });

  it('a worker over --max-memory is marked as a memory replacement', async () => {
    cluster = await startCluster(path.join(FIXTURES, 'leaky.mjs'), { workers: 1, extraArgs: [...ADMIN, '--max-memory', '200M'] });
    const s = await openEvents(await adminOf(cluster));
    streams.push(s);
    for (let i = 0; i < 6; i++) expect((await request(cluster.port, '/leak', { timeoutMs: 10_000 })).status).toBe(200);
    expect((await markOf(s, 'memory')).text).toMatch(/^worker over its memory limit, replaced/);
  });
});
