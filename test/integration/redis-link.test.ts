/**
 * The Redis link on its own, against a real redis-server: what it writes,
 * how hosts exchange changes through the log, and what happens when its
 * outage queue overflows (dropped, counted, then a re-seed from the
 * host's replica: nothing lost).
 */
import { Redis } from 'ioredis';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { SessionChanges } from '../../runtime/ipc/messages.js';
import { formatHlc } from '../../runtime/session/hlc.js';
import { emptyState, merge, setAttr, view, type SessionState } from '../../runtime/session/model.js';
import { RedisLink } from '../../runtime/session/redis/link.js';
import { decodeHash } from '../../runtime/session/redis/codec.js';
import { waitFor } from '../helpers/http.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';

const log = pino({ level: process.env.T_LOG ?? 'silent' });
let redis: RedisServer | undefined;
const links: RedisLink[] = [];
afterEach(async () => {
  await Promise.all(links.splice(0).map((l) => l.close()));
  await redis?.kill();
  redis = undefined;
});

/** A host's replica, reduced to a map the link reads (re-seed) and writes (changes from other hosts). */
class FakeHost {
  readonly sessions = new Map<string, SessionState>();
  /** Batches the link delivered (from other hosts, or a resync). */
  remoteBatches = 0;
  applyRemote(changes: SessionChanges): void {
    this.remoteBatches++;
    this.#merge(changes);
  }
  #merge(changes: SessionChanges): void {
    for (const [id, d] of changes) this.sessions.set(id, merge(this.sessions.get(id) ?? emptyState(), d));
  }
  entries(): Iterable<[string, SessionState]> { return this.sessions.entries(); }
  describe(): Record<string, unknown> { return { sessions: this.sessions.size }; }
  invalidate(): void { this.sessions.clear(); }
  /** A local write: into the replica, then to the link, as the hub does. */
  write(link: RedisLink, id: string, key: string, value: unknown, wall: number): void {
    const d = setAttr(key, value, formatHlc({ wall, logical: 0, node: 'w1' }));
    this.#merge([[id, d]]);
    link.publish([[id, d]]);
  }
}

type LinkOpts = { queueMax?: number; retryBaseMs?: number; retryMaxMs?: number; streamMaxLen?: number; batchSize?: number; progressMs?: number };
async function linkFor(server: RedisServer, host: FakeHost, opts: LinkOpts = {}, logger = log): Promise<RedisLink> {
  const l = new RedisLink({ url: server.url, prefix: 't:', retryBaseMs: 20, retryMaxMs: 100, blockMs: 100, ...opts }, host, logger);
  links.push(l);
  await l.start();
  return l;
}

const hashOf = async (r: Redis, id: string): Promise<Record<string, unknown>> => view(decodeHash(await r.hgetall(`t:s:${id}`)) ?? emptyState());

describe('redis link', () => {
  it('writes sessions as hashes and carries them to another host through the log, never back to itself', async () => {
    redis = await startRedis();
    const [ha, hb] = [new FakeHost(), new FakeHost()];
    const a = await linkFor(redis, ha);
    const b = await linkFor(redis, hb);
    ha.write(a, 's1', 'user', 'ann', Date.now());
    await waitFor(() => hb.sessions.has('s1'), 5_000, 'host B to receive s1');
    // B's entry follows A's in the log: once A has it, A has read past its own entry.
    hb.write(b, 's2', 'user', 'bob', Date.now());
    await waitFor(() => ha.sessions.has('s2'), 5_000, 'host A to receive s2');
    expect(view(hb.sessions.get('s1')!)).toEqual({ user: 'ann' });
    const r = new Redis(redis.port, '127.0.0.1');
    try {
      expect(await hashOf(r, 's1')).toEqual({ user: 'ann' });
      expect(await r.xlen('t:log')).toBe(2);
    } finally { r.disconnect(); }
    expect(a.stats()).toMatchObject({ status: 'ready', queued: 0 });
    expect(ha.remoteBatches).toBe(1);
    expect(hb.remoteBatches).toBe(1);
  });

  it('a queue past its bound is dropped and counted, and the host re-seeds Redis when it is back', async () => {
    redis = await startRedis();
    const host = new FakeHost();
    const link = await linkFor(redis, host, { queueMax: 3 });
    await redis.kill();
    await waitFor(() => link.status === 'down', 5_000, 'the link to see redis down');
    for (let i = 0; i < 5; i++) host.write(link, `s${i}`, 'n', i, Date.now());
    expect(link.stats()).toMatchObject({ queued: 0, overflows: 1 });
    await redis.restart();
    await waitFor(() => link.status === 'ready', 10_000, 'redis back');
    const r = new Redis(redis.port, '127.0.0.1');
    try {
      for (let i = 0; i < 5; i++) expect(await hashOf(r, `s${i}`)).toEqual({ n: i });
    } finally { r.disconnect(); }
    expect(link.stats().reseeds).toBeGreaterThanOrEqual(1);
  });

  it('a host that starts later reads every session already in Redis', async () => {
    redis = await startRedis();
    const ha = new FakeHost();
    const a = await linkFor(redis, ha);
    for (let i = 0; i < 1200; i++) ha.write(a, `s${i}`, 'n', i, Date.now());
    await waitFor(() => a.stats().queued === 0, 5_000, 'the writes to reach redis');
    const hb = new FakeHost();
    await linkFor(redis, hb);
    expect(hb.sessions.size).toBe(1200);
    expect(view(hb.sessions.get('s1199')!)).toEqual({ n: 1199 });
  });

  /** Drops a host's connections on the Redis side, as a network cut would. */
  async function cut(server: RedisServer, link: RedisLink): Promise<void> {
    const r = new Redis(server.port, '127.0.0.1');
    try {
      const list = await r.client('LIST') as string;
      const ids = list.split('\n').filter((l) => l.includes(`name=shoal:${link.hostId}:`)).map((l) => /id=(\d+)/.exec(l)![1]!);
      expect(ids).toHaveLength(2);
      for (const id of ids) await r.client('KILL', 'ID', id);
    } finally { r.disconnect(); }
  }

  it('a host cut off from redis resumes the log where it stopped: it misses nothing and reads nothing twice', async () => {
    redis = await startRedis();
    const [ha, hb] = [new FakeHost(), new FakeHost()];
    const a = await linkFor(redis, ha);
    // B reconnects only after a second: A writes meanwhile.
    const b = await linkFor(redis, hb, { retryBaseMs: 1_000, retryMaxMs: 1_000 });
    await cut(redis, b);
    await waitFor(() => b.status === 'down', 5_000, 'B to notice the cut');
    for (let i = 0; i < 50; i++) ha.write(a, `s${i}`, 'n', i, Date.now());
    await waitFor(() => a.stats().queued === 0, 5_000, 'A\'s writes in redis');
    await waitFor(() => hb.sessions.size === 50, 10_000, 'B to catch up');
    expect(view(hb.sessions.get('s49')!)).toEqual({ n: 49 });
    // Caught up from the log, not by reading every session again (that happened once, at start).
    expect(b.stats().resyncs).toBe(1);
  });

  it('a host that fell behind the trimmed log reads every session again', async () => {
    redis = await startRedis();
    const [ha, hb] = [new FakeHost(), new FakeHost()];
    const a = await linkFor(redis, ha, { streamMaxLen: 10 });
    const b = await linkFor(redis, hb, { retryBaseMs: 3_000, retryMaxMs: 3_000 });
    await cut(redis, b);
    await waitFor(() => b.status === 'down', 5_000, 'B to notice the cut');
    // One log entry per write turn; enough entries that Redis trims whole nodes (100 entries each) past B's position.
    for (let i = 0; i < 400; i++) {
      ha.write(a, `s${i}`, 'n', i, Date.now());
      await new Promise((r) => setTimeout(r, 1)); // a turn of A's loop: its own batch, its own log entry
    }
    await waitFor(() => a.stats().queued === 0, 5_000, 'A\'s writes in redis');
    expect(b.status).toBe('down'); // still cut off: the trimming happened while it was away
    const r = new Redis(redis.port, '127.0.0.1');
    try { expect(await r.xlen('t:log')).toBeLessThan(400); } finally { r.disconnect(); }
    await waitFor(() => hb.sessions.size === 400, 15_000, `B to read every session (has ${hb.sessions.size}, ${JSON.stringify(b.stats())})`);
    expect(b.stats().resyncs).toBe(2);
  });

  it('a host that starts reads every session from redis, saying how far it got on the way', async () => {
    redis = await startRedis();
    const ha = new FakeHost();
    const a = await linkFor(redis, ha);
    for (let i = 0; i < 250; i++) ha.write(a, `s${i}`, 'n', i, Date.now());
    await waitFor(() => a.stats().queued === 0, 5_000, 'A\'s writes in redis');
    const lines: { msg: string; sessions?: number }[] = [];
    const capture = pino({ level: 'info' }, { write: (l: string) => { lines.push(JSON.parse(l) as { msg: string; sessions?: number }); } });
    const hb = new FakeHost();
    // Pages of 50, progress after every page (progressMs 0).
    await linkFor(redis, hb, { batchSize: 50, progressMs: 0 }, capture);
    expect(hb.sessions.size).toBe(250);
    const progress = lines.filter((l) => l.msg === 'reading sessions from redis…').map((l) => l.sessions!);
    expect(progress.length).toBeGreaterThanOrEqual(4);
    expect(progress).toEqual([...progress].sort((x, y) => x - y));
    expect(lines.filter((l) => l.msg === 'read every session from redis').map((l) => l.sessions)).toEqual([250]);
  });

  it('a host that comes back while the log is being trimmed fast still ends with every session', async () => {
    redis = await startRedis();
    const [ha, hb] = [new FakeHost(), new FakeHost()];
    const a = await linkFor(redis, ha, { streamMaxLen: 10 });
    const b = await linkFor(redis, hb, { retryBaseMs: 500, retryMaxMs: 500 });
    await cut(redis, b);
    // B reconnects half a second in, while A goes on writing (and trimming) for about two seconds.
    for (let i = 0; i < 800; i++) {
      ha.write(a, `s${i}`, 'n', i, Date.now());
      await new Promise((r) => setTimeout(r, 2));
    }
    await waitFor(() => a.stats().queued === 0, 5_000, 'A\'s writes in redis');
    await waitFor(() => hb.sessions.size === 800, 15_000, `B to have every session (has ${hb.sessions.size}, ${JSON.stringify(b.stats())})`);
    expect(view(hb.sessions.get('s799')!)).toEqual({ n: 799 });
  });

  it('log entries are numbered one after another whichever host writes them; a log that starts over under a host makes it read everything', async () => {
    redis = await startRedis();
    const [ha, hb] = [new FakeHost(), new FakeHost()];
    const a = await linkFor(redis, ha);
    const b = await linkFor(redis, hb);
    for (let i = 0; i < 20; i++) {
      const [host, link] = i % 2 === 0 ? [ha, a] : [hb, b];
      host.write(link, `s${i}`, 'n', i, Date.now());
      // Taken from the queue: the next write starts a batch (and a log entry) of its own.
      await waitFor(() => link.stats().queued === 0, 5_000, 'the write on its way to redis');
    }
    const r = new Redis(redis.port, '127.0.0.1');
    try {
      const entries = await r.xrange('t:log', '-', '+');
      const numbers = entries.map(([, f]) => Number(f[f.indexOf('n') + 1]));
      expect(numbers).toEqual(numbers.map((_, i) => i + 1));
      expect(numbers.length).toBeGreaterThanOrEqual(20);
      await waitFor(() => hb.sessions.size === 20 && ha.sessions.size === 20, 5_000, 'both hosts to have every session');
      expect(b.stats().resyncs).toBe(1);
      // The log is deleted (by hand, or a FLUSH of its key) while B reads it: A's next entry is number 1 again.
      await r.del('t:log');
      ha.write(a, 'after', 'n', 1, Date.now());
      await waitFor(() => hb.sessions.has('after'), 5_000, 'B to receive the entry written after the log started over');
      await waitFor(() => b.stats().resyncs === 2, 5_000, `B to read every session again (${JSON.stringify(b.stats())})`);
    } finally { r.disconnect(); }
  });
});
