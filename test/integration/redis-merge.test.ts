/**
 * The Lua merge (runtime/session/redis/merge-script.ts) against a real
 * redis-server: whatever order and duplication deltas arrive in, the hash
 * decodes to exactly what model.ts merge() gives in JavaScript, so hosts
 * that merge in Redis and replicas that merge in memory agree.
 */
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatHlc } from '../../runtime/session/hlc.js';
import { emptyState, merge, type Attr, type Delta, type SessionState } from '../../runtime/session/model.js';
import { decodeHash, encodeDelta } from '../../runtime/session/redis/codec.js';
import { MERGE_SCRIPT } from '../../runtime/session/redis/merge-script.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';

let server: RedisServer;
let redis: Redis;
beforeAll(async () => {
  server = await startRedis();
  redis = new Redis(server.port, '127.0.0.1', { lazyConnect: true });
  await redis.connect();
});
afterAll(async () => { redis?.disconnect(); await server?.kill(); });

// Timestamps an hour ahead, so that the keys' PEXPIREAT is in the future.
const BASE = Date.now() + 3_600_000;
const RETENTION_MS = 60_000;
const FALLBACK_TTL_MS = 60_000;
// A small version space (as in model.property.test.ts) so that ties and equal versions are common.
// Node ids in both cases: a locale-sensitive comparison in Lua would order 'B' and 'a' differently from JavaScript.
const versionArb = fc.record({ wall: fc.nat(4), logical: fc.nat(1), node: fc.constantFrom('a', 'B', 'b') }).map(formatHlc);
const attrArb: fc.Arbitrary<Attr> = fc.oneof(
  fc.record({ version: versionArb, value: fc.oneof(fc.nat(3), fc.constantFrom('x', 'é', null, [1], { o: 1 })) }),
  fc.record({ version: versionArb, tombstone: fc.constant(true as const) }),
);
const deltaArb: fc.Arbitrary<Delta> = fc.record(
  {
    attrs: fc.dictionary(fc.constantFrom('a', 'b', 'c', 'constructor'), attrArb, { maxKeys: 3 }),
    destroyed: versionArb,
    touchedAt: fc.nat(5).map((n) => BASE + n),
    expiresAt: fc.nat(9).map((n) => BASE + n),
  },
  { requiredKeys: [] },
);

let n = 0;
async function mergeInRedis(deltas: readonly Delta[]): Promise<SessionState> {
  const key = `merge-test:${n++}`;
  for (const d of deltas) await redis.eval(MERGE_SCRIPT, 1, key, ...encodeDelta(d).slice(0, 3), String(RETENTION_MS), String(FALLBACK_TTL_MS), ...encodeDelta(d).slice(3));
  return decodeHash(await redis.hgetall(key)) ?? emptyState();
}

/** States compared by content (the JS side keeps prototype-less records). */
const plain = (s: SessionState): unknown => JSON.parse(JSON.stringify({ ...s, attrs: { ...s.attrs } }));

describe('Lua merge agrees with model.ts merge()', () => {
  it('any order, with duplicates, gives the JavaScript result', async () => {
    const arb = fc.array(deltaArb, { minLength: 1, maxLength: 6 }).chain((ds) =>
      fc.tuple(fc.constant(ds), fc.shuffledSubarray([...ds, ...ds], { minLength: 2 * ds.length })));
    await fc.assert(fc.asyncProperty(arb, async ([ds, shuffled]) => {
      const js = ds.reduce(merge, emptyState());
      expect(plain(await mergeInRedis(shuffled))).toEqual(plain(js));
    }), { numRuns: 150 });
  });

  it('sets the key to expire after expiresAt plus the retention, or after the fallback TTL', async () => {
    const key = `merge-test:ttl`;
    const args = (d: Delta): string[] => [...encodeDelta(d).slice(0, 3), String(RETENTION_MS), String(FALLBACK_TTL_MS), ...encodeDelta(d).slice(3)];
    await redis.eval(MERGE_SCRIPT, 1, key, ...args({ attrs: { a: { version: formatHlc({ wall: 1, logical: 0, node: 'a' }), value: 1 } } }));
    const fallback = await redis.pttl(key);
    expect(fallback).toBeGreaterThan(FALLBACK_TTL_MS - 5_000);
    expect(fallback).toBeLessThanOrEqual(FALLBACK_TTL_MS);
    await redis.eval(MERGE_SCRIPT, 1, key, ...args({ expiresAt: BASE }));
    expect(await redis.pexpiretime(key)).toBe(BASE + RETENTION_MS);
  });

  it('reports whether the hash changed', async () => {
    const key = 'merge-test:changed';
    const d: Delta = { attrs: { a: { version: formatHlc({ wall: 5, logical: 0, node: 'a' }), value: 1 } } };
    const run = (x: Delta): Promise<unknown> => redis.eval(MERGE_SCRIPT, 1, key, ...encodeDelta(x).slice(0, 3), '1000', '1000', ...encodeDelta(x).slice(3));
    expect(await run(d)).toBe(1);
    expect(await run(d)).toBe(0);
    expect(await run({ attrs: { a: { version: formatHlc({ wall: 4, logical: 0, node: 'z' }), value: 2 } } })).toBe(0);
  });
});
