/**
 * Several shoal hosts on one machine (clusters on different ports) sharing
 * sessions through a real redis-server that each test starts on a free port,
 * and kills for the outage test.
 */
import { afterEach, describe, expect, it } from 'vitest';
import path from 'node:path';
import { clusterStatus, FIXTURES, runCli, startCluster, type Cluster } from '../helpers/cluster.js';
import { getJson, mapLimit, waitFor } from '../helpers/http.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import { Redis } from 'ioredis';
import { formatHlc } from '../../runtime/session/hlc.js';
import { emptyState, setAttr, view } from '../../runtime/session/model.js';
import { decodeHash, encodeDelta } from '../../runtime/session/redis/codec.js';
import { MERGE_SCRIPT } from '../../runtime/session/redis/merge-script.js';

const app = path.join(FIXTURES, 'session-fastify.mjs');
const expressApp = path.join(FIXTURES, 'session-express.mjs');
const hosts: Cluster[] = [];
let redis: RedisServer | undefined;
afterEach(async () => {
  await Promise.all(hosts.splice(0).map((h) => h.stop('SIGKILL')));
  await redis?.kill();
  redis = undefined;
});

/** How long a change may take to reach another host in these tests (p99 on loopback is milliseconds). */
const VISIBLE_WITHIN_MS = 5_000;

async function host(url: string, extra: string[] = [], fixture = app): Promise<Cluster> {
  const h = await startCluster(fixture, { workers: 2, extraArgs: ['--redis', url, ...extra] });
  hosts.push(h);
  return h;
}

async function get(port: number, p: string, cookie?: string): Promise<{ value?: string | null; cookie?: string }> {
  const r = await getJson<{ value?: string | null }>(port, p, cookie ? { headers: { cookie } } : {});
  if (r.status !== 200) throw new Error(`GET ${p}: ${r.status} ${r.body}`);
  const set = [r.headers['set-cookie'] ?? []].flat()[0]?.split(';')[0];
  return { ...r.json, ...(set ? { cookie: set } : {}) };
}

const valueOn = async (port: number, cookie: string, k: string): Promise<string | null | undefined> => (await get(port, `/get?k=${k}`, cookie)).value;

describe('sessions across hosts through redis', () => {
  it('a session written on host A is read on host B, and a host started later has it', async () => {
    redis = await startRedis();
    const a = await host(redis.url);
    const b = await host(redis.url);
    const { cookie } = await get(a.port, '/set?k=who&v=ann');
    await waitFor(async () => (await valueOn(b.port, cookie!, 'who')) === 'ann', VISIBLE_WITHIN_MS, 'the session on host B');
    // B writes too, A sees it: the log runs both ways.
    await get(b.port, '/set?k=cart&v=apple', cookie);
    await waitFor(async () => (await valueOn(a.port, cookie!, 'cart')) === 'apple', VISIBLE_WITHIN_MS, 'B\'s change on host A');
    const c = await host(redis.url);
    expect(await valueOn(c.port, cookie!, 'who')).toBe('ann');
    expect(await valueOn(c.port, cookie!, 'cart')).toBe('apple');
  });

  it('redis killed under write load and restarted empty: every write made meanwhile reaches every host', async () => {
    redis = await startRedis();
    const a = await host(redis.url);
    const b = await host(redis.url);
    const clients = await mapLimit(Array.from({ length: 20 }, (_, i) => i), 4, async (i) => (await get(i % 2 ? a.port : b.port, `/set?k=n&v=0`)).cookie!);
    const written = new Map<string, string>();
    let round = 0;
    const writeRound = async (): Promise<void> => {
      round++;
      await mapLimit(clients, 4, async (cookie, i) => {
        await get(i % 2 ? a.port : b.port, `/set?k=n&v=${round}`, cookie);
        written.set(cookie, String(round));
      });
    };
    await writeRound();
    // Written only before the outage: after Redis returns empty, only a re-seed by the hosts brings these back to it.
    await mapLimit(clients, 4, async (cookie, i) => { await get(i % 2 ? a.port : b.port, `/set?k=pre&v=${i}`, cookie); });
    await waitFor(async () => (await valueOn(a.port, clients[0]!, 'pre')) === '0', VISIBLE_WITHIN_MS, 'pre on host A');
    await redis.kill();
    await waitFor(async () => ((await clusterStatus(a)).primary.redis as { status: string }).status === 'down', VISIBLE_WITHIN_MS, 'host A to see redis down');
    for (let i = 0; i < 3; i++) await writeRound(); // served from the hosts' replicas while Redis is away
    const down = (await clusterStatus(a)).primary.redis as { queued: number };
    expect(down.queued).toBeGreaterThan(0);
    await redis.restart();
    for (const h of [a, b]) {
      await waitFor(async () => ((await clusterStatus(h)).primary.redis as { status: string; queued: number }).status === 'ready', 15_000, 'redis ready again');
    }
    for (const h of [a, b]) {
      for (const [cookie, v] of written) {
        await waitFor(async () => (await valueOn(h.port, cookie, 'n')) === v, VISIBLE_WITHIN_MS, `write ${v} on host ${h.port}`);
      }
    }
    // And Redis itself was re-seeded: a new host gets everything from it.
    const c = await host(redis.url);
    for (const [cookie, v] of written) expect(await valueOn(c.port, cookie, 'n')).toBe(v);
    for (const [i, cookie] of clients.entries()) expect(await valueOn(c.port, cookie, 'pre')).toBe(String(i));
    expect(a.logs.some((l) => /redis lost its data/.test(String(l.msg)))).toBe(true);
  });

  it.each([
    ['empty (no persistence: the hosts re-seed it)', false],
    ['with its data (append-only file: the hosts replay their queues, no re-seed)', true],
  ])('redis killed while writes are in flight, then restarted %s: every acknowledged write is on every host', async (_how, persist) => {
    redis = await startRedis({ persist });
    const a = await host(redis.url);
    const b = await host(redis.url);
    const clients = await mapLimit(Array.from({ length: 6 }, (_, i) => i), 6, async (i) => (await get(i % 2 ? a.port : b.port, '/set?k=start&v=1')).cookie!);
    // Each client writes a new key per request, alternating hosts, until told to stop: a write load
    // that is running when Redis dies and when it comes back. Only answered writes count.
    const acked = clients.map(() => [] as string[]);
    const failed: string[] = [];
    let stop = false;
    const MAX_WRITES_PER_CLIENT = 400; // bounded whatever the timing (a session stays far below 64 KiB)
    const load = Promise.all(clients.map(async (cookie, c) => {
      for (let n = 0; !stop && n < MAX_WRITES_PER_CLIENT; n++) {
        const port = (c + n) % 2 ? a.port : b.port;
        try {
          await get(port, `/set?k=w${n}&v=${c}.${n}`, cookie);
          acked[c]!.push(`w${n}`);
        } catch (e) { failed.push((e as Error).message); }
      }
    }));
    const written = (): number => acked.reduce((n, l) => n + l.length, 0);
    await waitFor(async () => written() >= 60, VISIBLE_WITHIN_MS, 'writes before the outage');
    // Redis stalls first (it holds every write, as a server swapping or saving would), so that
    // each host has a batch sent and not answered when it dies: ioredis sends it again once Redis
    // is back, and whatever the path, none of those writes may be lost.
    const r = new Redis(redis.port, '127.0.0.1');
    try { await r.client('PAUSE', '10000', 'WRITE'); } finally { r.disconnect(); }
    const queued = async (h: Cluster): Promise<number> => ((await clusterStatus(h)).primary.redis as { queued: number }).queued;
    await waitFor(async () => (await queued(a)) > 0 && (await queued(b)) > 0, VISIBLE_WITHIN_MS, 'writes held by redis on both hosts');
    await redis.kill();
    const atKill = written();
    await waitFor(async () => written() >= atKill + 60, VISIBLE_WITHIN_MS, 'writes during the outage');
    await redis.restart();
    for (const h of [a, b]) {
      await waitFor(async () => ((await clusterStatus(h)).primary.redis as { status: string }).status === 'ready', 15_000, 'redis ready again');
    }
    const atReturn = written();
    await waitFor(async () => written() >= atReturn + 60, VISIBLE_WITHIN_MS, 'writes after redis is back');
    stop = true;
    await load;
    // Writes are served from the hosts' copies throughout: none failed.
    expect(failed).toEqual([]);
    for (const h of [a, b]) {
      for (const [c, cookie] of clients.entries()) {
        await waitFor(async () => {
          const r = await getJson<{ data: Record<string, string> }>(h.port, '/all', { headers: { cookie } });
          return acked[c]!.every((k) => r.json.data[k] === `${c}.${k.slice(1)}`);
        }, VISIBLE_WITHIN_MS, `client ${c}'s ${acked[c]!.length} writes on host ${h.port}`);
      }
    }
    // Only an empty Redis is re-seeded: with its data back, the queues alone carried the outage's writes.
    expect(a.logs.some((l) => /redis lost its data/.test(String(l.msg)))).toBe(!persist);
    // Redis has them all too: a host started now reads every one from it.
    const c2 = await host(redis.url);
    for (const [c, cookie] of clients.entries()) {
      const r = await getJson<{ data: Record<string, string> }>(c2.port, '/all', { headers: { cookie } });
      expect(acked[c]!.filter((k) => r.json.data[k] !== `${c}.${k.slice(1)}`)).toEqual([]);
    }
  });

  it('--redis-queue-max: past the bound the outage queue is dropped (logged, counted), and the host re-seeds redis when it is back', async () => {
    redis = await startRedis({ persist: true });
    const a = await host(redis.url, ['--redis-queue-max', '3']);
    const b = await host(redis.url);
    const cookies: string[] = [];
    for (let i = 0; i < 5; i++) cookies.push((await get(a.port, `/set?k=n&v=before${i}`)).cookie!);
    await waitFor(async () => (await valueOn(b.port, cookies[4]!, 'n')) === 'before4', VISIBLE_WITHIN_MS, 'the sessions on host B');
    await redis.kill();
    await waitFor(async () => ((await clusterStatus(a)).primary.redis as { status: string }).status === 'down', VISIBLE_WITHIN_MS, 'host A to see redis down');
    // Five sessions changed while Redis is away: the fourth takes the queue past 3.
    for (const [i, cookie] of cookies.entries()) await get(a.port, `/set?k=n&v=during${i}`, cookie);
    const st = (await clusterStatus(a)).primary.redis as { queued: number; overflows: number };
    expect(st.overflows).toBe(1);
    expect(a.logs.some((l) => /redis change queue full: dropping it/.test(String(l.msg)))).toBe(true);
    // Redis comes back with its data (no epoch change): only the re-seed brings the dropped changes.
    await redis.restart();
    for (const [i, cookie] of cookies.entries()) {
      await waitFor(async () => (await valueOn(b.port, cookie, 'n')) === `during${i}`, 15_000, `session ${i}'s change on host B`);
    }
    expect(((await clusterStatus(a)).primary.redis as { reseeds: number }).reseeds).toBe(1);
  });

  it.each([
    ['replicated', app], ['distributed', app], ['replicated, express-session + ShoalStore', expressApp],
  ])('%s: a session this host dropped (max-sessions), asked for while redis is down, keeps its id; what is written then joins it when redis is back', async (label, fixture) => {
    const mode = label.split(',')[0]!;
    redis = await startRedis({ persist: true });
    // One worker keeping one session: a second session pushes the first out of the host.
    const a = await startCluster(fixture, { workers: 1, extraArgs: ['--redis', redis.url, '--sessions', mode, '--max-sessions', '1'] });
    hosts.push(a);
    const s = (await get(a.port, '/set?k=old&v=1')).cookie!;
    await get(a.port, '/set?k=other&v=1');
    await redis.kill();
    await waitFor(async () => ((await clusterStatus(a)).primary.redis as { status: string }).status === 'down', VISIBLE_WITHIN_MS, 'host A to see redis down');
    // Nobody can tell now whether the session exists: the request goes on without its data, under its id.
    const during = await getJson(a.port, '/set?k=new&v=2', { headers: { cookie: s } });
    expect(during.status).toBe(200);
    // The session cookie is sent again (shoal/fastify: the session's first write here) or not at
    // all (express-session: same id, unchanged cookie), never with another id.
    const name = s.split('=')[0]!;
    const idOf = (cookie: string): string => cookie.split('=')[1]!.split('.')[0]!;
    const again = [during.headers['set-cookie'] ?? []].flat().find((l) => l.startsWith(`${name}=`));
    if (again !== undefined) expect(idOf(again.split(';')[0]!)).toBe(idOf(s));
    await redis.restart();
    await waitFor(async () => ((await clusterStatus(a)).primary.redis as { status: string }).status === 'ready', 15_000, 'redis ready again');
    // The copy made during the outage held only 'new'; the host reads the session again and has both.
    await waitFor(async () => (await valueOn(a.port, s, 'old')) === '1' && (await valueOn(a.port, s, 'new')) === '2', VISIBLE_WITHIN_MS, 'the whole session on host A');
    // And Redis has both: a host started now reads them from it.
    const b = await host(redis.url, ['--sessions', mode], fixture);
    expect([await valueOn(b.port, s, 'old'), await valueOn(b.port, s, 'new')]).toEqual(['1', '2']);
  });

  it('redis refusing writes while connected (out of memory): the writes stay queued, are retried, and reach the other host once it takes them', async () => {
    redis = await startRedis();
    const a = await host(redis.url);
    const b = await host(redis.url);
    const { cookie } = await get(a.port, '/set?k=before&v=1');
    await waitFor(async () => (await valueOn(b.port, cookie!, 'before')) === '1', VISIBLE_WITHIN_MS, 'the session on host B');
    const r = new Redis(redis.port, '127.0.0.1');
    try {
      // Every write command now fails with OOM; reads (B's log reads) go on.
      await r.config('SET', 'maxmemory-policy', 'noeviction');
      await r.config('SET', 'maxmemory', '1');
      for (let i = 0; i < 10; i++) await get(a.port, `/set?k=w${i}&v=${i}`, cookie); // served all the same
      const st = (await clusterStatus(a)).primary.redis as { status: string; queued: number; lastError: string };
      expect(st.status).toBe('ready');
      expect(st.queued).toBe(1); // the session's ten writes, joined
      expect(st.lastError).toMatch(/OOM/);
      expect(await valueOn(b.port, cookie!, 'w9')).toBeNull();
      await r.config('SET', 'maxmemory', '0');
    } finally { r.disconnect(); }
    for (let i = 0; i < 10; i++) {
      await waitFor(async () => (await valueOn(b.port, cookie!, `w${i}`)) === String(i), VISIBLE_WITHIN_MS, `w${i} on host B`);
    }
    expect(((await clusterStatus(a)).primary.redis as { queued: number }).queued).toBe(0);
  });

  it.each([
    ['replicated', app], ['distributed', app], ['replicated, express-session + ShoalStore', expressApp],
  ])('read-your-writes across hosts (%s): 100 writes on one host each read at once on the other, zero stale', async (label, fixture) => {
    redis = await startRedis();
    const mode = label.split(',')[0]!;
    const a = await host(redis.url, ['--sessions', mode], fixture);
    const b = await host(redis.url, ['--sessions', mode], fixture);
    let cookie: string | undefined;
    let stale = 0;
    for (let i = 0; i < 100; i++) {
      const [from, to] = i % 2 ? [a, b] : [b, a];
      const r = await getJson<{ value: string | null }>(from.port, `/set?k=n&v=${i}`, cookie ? { headers: { cookie } } : {});
      // The client keeps every cookie it is given, as a browser does: the session's and its version.
      const jar = new Map((cookie ?? '').split('; ').filter(Boolean).map((c) => c.split('=') as [string, string]));
      for (const line of [r.headers['set-cookie'] ?? []].flat()) { const [k, v] = line.split(';')[0]!.split('='); jar.set(k!, v!); }
      cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
      if ((await valueOn(to.port, cookie, 'n')) !== String(i)) stale++;
    }
    expect(stale).toBe(0);
  });

  it('a response that changed a session goes out only once the change is in redis', async () => {
    redis = await startRedis();
    const a = await host(redis.url);
    const r = new Redis(redis.port, '127.0.0.1');
    try {
      let cookie: string | undefined;
      for (let i = 0; i < 5; i++) {
        // Redis holds every write for 200 ms (reads go on): the response must wait for its write.
        await r.client('PAUSE', '200', 'WRITE');
        const res = await get(a.port, `/set?k=n&v=${i}`, cookie);
        cookie ??= res.cookie;
        const id = cookie!.split('=')[1]!.split('.')[0]!;
        // Read right after the response, with no wait: it must already be there.
        expect(view(decodeHash(await r.hgetall(`shoal:s:${id}`)) ?? emptyState()).n).toBe(String(i));
      }
    } finally { r.disconnect(); }
  });

  it('a write to an existing session sends the session cookie again, first, then the version', async () => {
    redis = await startRedis();
    const a = await host(redis.url);
    const first = await getJson(a.port, '/set?k=n&v=1');
    const sid = [first.headers['set-cookie'] ?? []].flat()[0]!.split(';')[0]!;
    expect(sid).toMatch(/^shoal\.sid=/);
    // A client that keeps only the first Set-Cookie line of each response, and replaces its cookie with it.
    let cookie = sid;
    for (let i = 2; i <= 5; i++) {
      const r = await getJson<{ value: string | null }>(a.port, `/set?k=n&v=${i}`, { headers: { cookie } });
      const lines = [r.headers['set-cookie'] ?? []].flat().map((l) => l.split(';')[0]!);
      expect(lines).toHaveLength(2);
      expect(lines[1]).toMatch(/^shoal\.sid\.v=/);
      cookie = lines[0]!;
    }
    expect(cookie).toBe(sid);
    expect(await valueOn(a.port, cookie, 'n')).toBe('5');
    // A read sends nothing.
    expect((await getJson(a.port, '/get?k=n', { headers: { cookie } })).headers['set-cookie']).toBeUndefined();
  });

  it('a host that has not yet received a change the client saw elsewhere (version cookie) reads it from redis', async () => {
    redis = await startRedis();
    const b = await host(redis.url);
    const first = await get(b.port, '/set?k=n&v=old');
    const id = first.cookie!.split('=')[1]!.split('.')[0]!;
    // Another host's write that B has not received: in Redis, but not in the log B reads.
    const version = formatHlc({ wall: Date.now() + 1_000, logical: 0, node: 'other-host' });
    const d = setAttr('n', 'new', version);
    const r = new Redis(redis.port, '127.0.0.1');
    try {
      const [destroyed, touched, expires, ...pairs] = encodeDelta(d);
      await r.eval(MERGE_SCRIPT, 1, `shoal:s:${id}`, destroyed!, touched!, expires!, '60000', '60000', ...pairs);
    } finally { r.disconnect(); }
    // Without the version B has no reason to look: its copy is all it knows.
    expect(await valueOn(b.port, first.cookie!, 'n')).toBe('old');
    // With it (as host A's response would have set it), B sees its copy is behind and reads Redis.
    expect(await valueOn(b.port, `${first.cookie!}; shoal.sid.v=${version}`, 'n')).toBe('new');
  });

  it('express-session + ShoalStore: a save sets the version cookie, and a host whose copy is older reads the session from redis', async () => {
    redis = await startRedis();
    const b = await host(redis.url, [], expressApp);
    const first = await getJson(b.port, '/set?k=n&v=old');
    const lines = [first.headers['set-cookie'] ?? []].flat().map((l) => l.split(';')[0]!);
    // The session cookie first (clients that keep only the first one keep the session), then the
    // version of the write just made: a hybrid-logical-clock stamp of this host.
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^connect\.sid=s%3A/);
    expect(lines[1]).toMatch(/^connect\.sid\.v=[\w.-]+$/);
    const sid = lines[0]!;
    // Reading changes nothing, so no new version is sent.
    const read = await getJson(b.port, '/get?k=n', { headers: { cookie: sid! } });
    expect([read.headers['set-cookie'] ?? []].flat().filter((l) => l.startsWith('connect.sid.v='))).toEqual([]);
    // A write to the session: express-session has no reason to send its cookie, but it is sent
    // again, first and unchanged, so a client that keeps only the first line keeps its session.
    const again = await getJson(b.port, '/set?k=m&v=1', { headers: { cookie: sid! } });
    const againLines = [again.headers['set-cookie'] ?? []].flat().map((l) => l.split(';')[0]!);
    expect(againLines).toHaveLength(2);
    expect(againLines[0]).toBe(sid);
    expect(againLines[1]).toMatch(/^connect\.sid\.v=/);
    const id = decodeURIComponent(sid!.slice('connect.sid='.length)).slice(2).split('.')[0]!;
    const version = formatHlc({ wall: Date.now() + 1_000, logical: 0, node: 'other-host' });
    const r = new Redis(redis.port, '127.0.0.1');
    try {
      const [destroyed, touched, expires, ...pairs] = encodeDelta(setAttr('n', 'new', version));
      await r.eval(MERGE_SCRIPT, 1, `shoal:s:${id}`, destroyed!, touched!, expires!, '60000', '60000', ...pairs);
    } finally { r.disconnect(); }
    expect(await valueOn(b.port, sid!, 'n')).toBe('old');
    expect(await valueOn(b.port, `${sid!}; connect.sid.v=${version}`, 'n')).toBe('new');
  });

  it('read-through: a host that holds fewer sessions than exist loads the others from redis on demand', async () => {
    redis = await startRedis();
    const a = await host(redis.url);
    const b = await host(redis.url, ['--max-sessions', '2']);
    const cookies: string[] = [];
    for (let i = 0; i < 6; i++) cookies.push((await get(a.port, `/set?k=who&v=user${i}`)).cookie!);
    // Every change has reached B (it kept only the 2 most recent) once the last one has.
    await waitFor(async () => (await valueOn(b.port, cookies[5]!, 'who')) === 'user5', VISIBLE_WITHIN_MS, 'the last session on host B');
    expect(((await clusterStatus(b)).primary.sessions as { sessions: number }).sessions).toBeLessThanOrEqual(2);
    for (const [i, cookie] of cookies.entries()) expect(await valueOn(b.port, cookie, 'who')).toBe(`user${i}`);
  });

  it('distributed mode: memory per host stays bounded, every session is served by every host, changes reach cached copies', async () => {
    redis = await startRedis();
    const args = ['--sessions', 'distributed', '--max-sessions', '5'];
    const a = await host(redis.url, args);
    const b = await host(redis.url, args);
    const cookies: string[] = [];
    for (let i = 0; i < 30; i++) cookies.push((await get(i % 2 ? a.port : b.port, `/set?k=who&v=user${i}`)).cookie!);
    for (const h of [a, b]) for (const [i, cookie] of cookies.entries()) expect(await valueOn(h.port, cookie, 'who')).toBe(`user${i}`);
    for (const h of [a, b]) {
      const st = await clusterStatus(h);
      expect((st.primary.redis as { mode: string }).mode).toBe('distributed');
      expect((st.primary.sessions as { sessions: number }).sessions).toBeLessThanOrEqual(5);
      for (const w of st.workers) expect((w.sessions as { sessions: number }).sessions).toBeLessThanOrEqual(5);
    }
    // A session cached on B (just read there) follows a change made on A.
    const last = cookies[29]!;
    expect(await valueOn(b.port, last, 'who')).toBe('user29');
    await get(a.port, '/set?k=who&v=changed', last);
    await waitFor(async () => (await valueOn(b.port, last, 'who')) === 'changed', VISIBLE_WITHIN_MS, 'the change on host B');
  });

  it('--sessions distributed without --redis is a usage error', async () => {
    const r = await runCli(['start', app, '--sessions', 'distributed']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/invalid value 'distributed' for --sessions: expected replicated, or distributed together with --redis URL/);
  });

  it('status --cluster lists every host; a stopped host leaves at once, a killed one within the heartbeat TTL', async () => {
    redis = await startRedis();
    const [a, b, c] = [await host(redis.url), await host(redis.url), await host(redis.url)];
    const cli = (h: Cluster, ...args: string[]) => runCli(['status', '--cluster', '--name', `test-${h.port}`, ...args]);
    const ports = async (): Promise<number[]> => {
      const r = await cli(a, '--json');
      expect(r.code, r.stderr).toBe(0);
      return (JSON.parse(r.stdout) as { hosts: { port: number }[] }).hosts.map((h) => h.port).sort();
    };
    await waitFor(async () => (await ports()).length === 3, VISIBLE_WITHIN_MS, 'three hosts listed');
    expect(await ports()).toEqual([a.port, b.port, c.port].sort());
    const table = await cli(b);
    expect(table.stdout).toMatch(/hosts sharing this cluster's redis \(3; \* = this one\)/);
    expect(table.stdout).toMatch(/2\/2/); // ready/total workers of a host
    hosts.splice(hosts.indexOf(b), 1);
    expect((await b.stop('SIGTERM')).code).toBe(0);
    expect(await ports()).toEqual([a.port, c.port].sort()); // a graceful stop removes its entry itself
    hosts.splice(hosts.indexOf(c), 1);
    await c.stop('SIGKILL');
    await waitFor(async () => (await ports()).length === 1, 8_000, 'the killed host to leave the list');
    expect(await ports()).toEqual([a.port]);
  });

  it('status --cluster without redis says so', async () => {
    const solo = await startCluster(app, { workers: 1 });
    hosts.push(solo);
    const r = await runCli(['status', '--cluster', '--name', `test-${solo.port}`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/does not use Redis.*--redis URL/);
  });

  it('status shows redis health and queue depth, never the password', async () => {
    const password = 'pw-that-must-not-leak-0123456789';
    redis = await startRedis({ password });
    const a = await host(redis.url);
    await get(a.port, '/set?k=x&v=1');
    const st = await clusterStatus(a);
    const r = st.primary.redis as { status: string; queued: number; url: string };
    expect(r.status).toBe('ready');
    expect(r.queued).toBe(0);
    expect(r.url).toContain('***');
    expect(JSON.stringify(st)).not.toContain(password);
    expect(a.stderr() + JSON.stringify(a.logs)).not.toContain(password);
  });

  it('a bad --redis URL is a usage error that does not echo the password', async () => {
    const r = await runCli(['start', app, '--redis', 'http://:secretpw@127.0.0.1:1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/invalid value .* for --redis: expected a URL such as redis:\/\//);
    expect(r.stderr).not.toContain('secretpw');
  });
});
