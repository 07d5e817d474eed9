import { afterEach, describe, expect, it, vi } from 'vitest';
import { isShoalError } from '../../../runtime/errors.js';
import { formatHlc } from '../../../runtime/session/hlc.js';
import { deleteAttr, destroySession, setAttr, sizeOf, touchSession, view } from '../../../runtime/session/model.js';
import {
  DEFAULT_MAX_SESSION_BYTES, DEFAULT_SESSION_TTL_MS, SessionStore, type Scheduler, type SessionStoreOptions,
} from '../../../runtime/session/store.js';

const v = (ms: number, node = 'a'): string => formatHlc({ wall: ms, logical: 0, node });
let seq = 0;
const ver = (): string => formatHlc({ wall: 1, logical: ++seq, node: 't' });

/** A store on a fake clock and a fake timer the test drives. */
function setup(opts: SessionStoreOptions = {}) {
  const t = { now: 1_000_000, ticks: [] as { tick: () => void; every: number }[], cancelled: 0 };
  const schedule: Scheduler = (tick, every) => {
    t.ticks.push({ tick, every });
    return () => { t.cancelled++; };
  };
  const store = new SessionStore({ now: () => t.now, schedule, ...opts });
  return { t, store };
}

afterEach(() => { vi.restoreAllMocks(); });

describe('SessionStore basics', () => {
  it('creates a session from a delta, reads it back and counts it', () => {
    const { store } = setup();
    expect(store.get('s1')).toBeUndefined();
    const s = store.applyDelta('s1', setAttr('user', 'ann', ver()));
    expect(view(store.get('s1')!)).toEqual({ user: 'ann' });
    expect(store.get('s1')).toBe(s);
    expect(store.stats()).toEqual({ sessions: 1, bytes: sizeOf(s!), expired: 0, evicted: 0, refused: 0 });
    expect(store.bytes).toBe(4 + 5);
  });

  it('keeps the byte counter exact through writes, deletes and removal', () => {
    const { store } = setup();
    store.applyDelta('s', setAttr('k', 'x'.repeat(10), ver()));
    store.applyDelta('s', setAttr('k', 'x'.repeat(3), ver()));
    store.applyDelta('t', setAttr('kk', 1, ver()));
    expect(store.bytes).toBe(1 + 5 + 2 + 1);
    store.applyDelta('s', deleteAttr('k', ver()));
    expect(store.bytes).toBe(3);
    expect(store.delete('t')).toBe(true);
    expect(store.delete('t')).toBe(false);
    expect(store.stats()).toMatchObject({ sessions: 1, bytes: 0 });
  });

  it('keeps a destroyed session (its tombstone) and reports it as destroyed', () => {
    const { store } = setup();
    store.applyDelta('s', setAttr('k', 1, v(1)));
    const s = store.applyDelta('s', destroySession(v(2)))!;
    expect(view(s)).toEqual({});
    expect(store.get('s')?.destroyed).toBe(v(2));
    // A late write older than the destroy cannot bring it back.
    expect(view(store.applyDelta('s', setAttr('k', 1, v(1)))!)).toEqual({});
  });

  it('refuses nonsense options', () => {
    expect(() => new SessionStore({ ttlMs: 0, schedule: () => () => {} })).toThrow(/ttlMs must be a positive number/);
    expect(() => new SessionStore({ sweepBatch: -1, schedule: () => () => {} })).toThrow(RangeError);
  });
});

describe('sliding expiry', () => {
  it('defaults to 30 minutes, and sessions to 64 KiB', () => {
    expect([DEFAULT_SESSION_TTL_MS, DEFAULT_MAX_SESSION_BYTES]).toEqual([30 * 60_000, 65_536]);
    expect([setup().store.ttlMs, setup().store.maxSessionBytes]).toEqual([DEFAULT_SESSION_TTL_MS, DEFAULT_MAX_SESSION_BYTES]);
  });

  it('a session expires ttl after its last touch; each touch slides it', () => {
    const { t, store } = setup({ ttlMs: 1000 });
    store.applyDelta('s', setAttr('k', 1, ver()));
    expect(store.touch('s')).toEqual(touchSession(t.now, 1000));
    t.now += 900;
    expect(store.touch('s')).toBeDefined(); // now expires at +1900
    t.now += 900;
    expect(store.get('s')).toBeDefined();
    t.now += 100;
    expect(store.get('s')).toBeUndefined();
    expect(store.stats()).toMatchObject({ sessions: 0, expired: 1 });
    expect(store.touch('s')).toBeUndefined(); // an expired session cannot be touched back to life
  });

  it('a touch replicated from a peer slides it the same way', () => {
    const { t, store } = setup({ ttlMs: 1000 });
    store.applyDelta('s', setAttr('k', 1, ver()));
    store.applyDelta('s', touchSession(t.now + 5000, 1000), { enforceLimit: false });
    t.now += 5999;
    expect(store.has('s')).toBe(true);
    t.now += 1;
    expect(store.has('s')).toBe(false);
  });

  it('a session never touched expires ttl after it was first stored here (writes alone do not slide it)', () => {
    const { t, store } = setup({ ttlMs: 1000 });
    store.applyDelta('s', setAttr('k', 1, ver()));
    t.now += 999;
    store.applyDelta('s', setAttr('k', 2, ver()));
    t.now += 1;
    expect(store.get('s')).toBeUndefined();
  });

  it('a late delta whose replicated expiry is already past does not bring a session back', () => {
    const { t, store } = setup({ ttlMs: 1000 });
    expect(store.applyDelta('s', touchSession(t.now - 2000, 1000))).toBeUndefined();
    expect(store.size).toBe(0);
  });
});

describe('bounds: least recently used sessions go first', () => {
  it('by count', () => {
    const { store } = setup({ maxSessions: 3 });
    for (const id of ['a', 'b', 'c']) store.applyDelta(id, setAttr('k', id, ver()));
    store.get('a'); // a is now the most recently used: b is the oldest
    store.applyDelta('d', setAttr('k', 'd', ver()));
    expect([...store.entries()].map(([id]) => id)).toEqual(['c', 'a', 'd']);
    store.applyDelta('c', setAttr('k', 'c2', ver())); // a write is a use too
    store.applyDelta('e', setAttr('k', 'e', ver()));
    expect([...store.entries()].map(([id]) => id)).toEqual(['d', 'c', 'e']);
    expect(store.stats()).toMatchObject({ sessions: 3, evicted: 2 });
  });

  it('by bytes', () => {
    const { store } = setup({ maxBytes: 100 });
    const forty = 'x'.repeat(37); // key 'k' (1) + '"…"' (39) = 40 bytes
    store.applyDelta('a', setAttr('k', forty, ver()));
    store.applyDelta('b', setAttr('k', forty, ver()));
    expect(store.bytes).toBe(80);
    store.applyDelta('c', setAttr('k', forty, ver()));
    expect([...store.entries()].map(([id]) => id)).toEqual(['b', 'c']);
    expect(store.bytes).toBe(80);
    // Growing one session pushes out others, never the one being written.
    store.applyDelta('c', setAttr('k', 'y'.repeat(150), ver()));
    expect([...store.entries()].map(([id]) => id)).toEqual(['c']);
    expect(store.stats()).toMatchObject({ evicted: 2, bytes: 153 });
  });

  it('entries() lists live sessions without changing the order', () => {
    const { store } = setup();
    for (const id of ['a', 'b']) store.applyDelta(id, setAttr('k', id, ver()));
    [...store.entries()];
    store.applyDelta('c', setAttr('k', 'c', ver()));
    expect([...store.entries()].map(([id]) => id)).toEqual(['a', 'b', 'c']);
  });
});

describe('spread sweeps', () => {
  it('runs on the injected timer, and each tick examines at most sweepBatch sessions', () => {
    const { t, store } = setup({ ttlMs: 1000, sweepBatch: 100, sweepIntervalMs: 250 });
    expect(t.ticks.map((x) => x.every)).toEqual([250]);
    for (let i = 0; i < 1000; i++) store.applyDelta(`s${i}`, setAttr('k', i, ver()));
    t.now += 1000; // every session expires at the same moment
    const removedPerTick: number[] = [];
    for (let i = 0; i < 10; i++) {
      const before = store.size;
      t.ticks[0]!.tick();
      removedPerTick.push(before - store.size);
    }
    expect(removedPerTick).toEqual(Array(10).fill(100));
    expect(store.stats()).toMatchObject({ sessions: 0, bytes: 0, expired: 1000 });
  });

  it('resumes where the previous slice stopped and starts a new pass at the end', () => {
    const { store } = setup({ sweepBatch: 100 });
    for (let i = 0; i < 250; i++) store.applyDelta(`s${i}`, setAttr('k', i, ver()));
    expect([1, 2, 3, 4].map(() => store.sweep().examined)).toEqual([100, 100, 50, 100]);
  });

  it('reaches sessions that were used during a pass, and skips deleted ones', () => {
    const { t, store } = setup({ ttlMs: 1000, sweepBatch: 3 });
    for (const id of ['a', 'b', 'c', 'd', 'e']) store.applyDelta(id, setAttr('k', id, ver()));
    store.sweep(); // a b c
    store.delete('d');
    store.get('a'); // moved behind e
    t.now += 1000;
    expect(store.sweep()).toEqual({ examined: 2, expired: 2, purged: 0 }); // e, a
    expect(store.size).toBe(2); // b and c wait for the next pass (or a read)
  });

  it('purges tombstones past their retention and forgets destroyed sessions', () => {
    const hour = 3_600_000;
    const { t, store } = setup({ ttlMs: 10 * hour, tombstoneRetentionMs: hour });
    store.applyDelta('live', setAttr('k', 1, v(t.now)));
    store.applyDelta('live', deleteAttr('gone', v(t.now)));
    store.applyDelta('dead', setAttr('k', 1, v(t.now)));
    store.applyDelta('dead', destroySession(v(t.now + 1)));
    t.now += hour - 10;
    expect(store.sweep()).toMatchObject({ examined: 2, purged: 0 });
    t.now += 20;
    expect(store.sweep()).toMatchObject({ examined: 2, purged: 2 });
    expect([...store.entries()].map(([id, s]) => [id, Object.keys(s.attrs)])).toEqual([['live', ['k']]]);
  });
});

describe('per-session size limit', () => {
  it('refuses a write that would grow a session past the limit, and leaves it exactly as it was', () => {
    const { store } = setup({ maxSessionBytes: 100 });
    const before = store.applyDelta('sessionid123456', setAttr('a', 'x'.repeat(50), ver()));
    const snapshot = JSON.stringify(before);
    const bytes = store.bytes;
    let err: unknown;
    try { store.applyDelta('sessionid123456', setAttr('b', 'y'.repeat(60), ver())); } catch (e) { err = e; }
    expect(isShoalError(err) && err.code).toBe('SHOAL_ERR_SESSION_TOO_LARGE');
    const msg = (err as Error).message;
    expect(msg).toContain('session sessio… would grow to 116 bytes, over the limit of 100 bytes');
    expect(msg).toContain('maxSessionBytes');
    expect(msg).not.toContain('sessionid123456');
    expect(store.get('sessionid123456')).toBe(before);
    expect(JSON.stringify(store.get('sessionid123456'))).toBe(snapshot);
    expect(store.stats()).toMatchObject({ bytes, refused: 1, sessions: 1 });
  });

  it('refuses a new session that is too large without creating it', () => {
    const { store } = setup({ maxSessionBytes: 10 });
    expect(() => store.applyDelta('s', setAttr('k', 'x'.repeat(20), ver()))).toThrow(/over the limit of 10 bytes/);
    expect(store.size).toBe(0);
    expect(store.bytes).toBe(0);
  });

  it('lets replicated deltas through, and a session over the limit can always shrink', () => {
    const { store } = setup({ maxSessionBytes: 10 });
    store.applyDelta('s', setAttr('a', 'x'.repeat(20), ver()), { enforceLimit: false });
    store.applyDelta('s', setAttr('b', 'y'.repeat(5), ver()), { enforceLimit: false });
    expect(() => store.applyDelta('s', setAttr('b', 'y'.repeat(6), ver()))).toThrow(/SESSION|limit/);
    store.applyDelta('s', setAttr('b', 'y', ver())); // smaller, though still over the limit
    store.applyDelta('s', deleteAttr('a', ver()));
    expect(view(store.get('s')!)).toEqual({ b: 'y' });
  });
});

describe('timers and close', () => {
  it('the default sweep timer does not keep the process alive', () => {
    const spy = vi.spyOn(globalThis, 'setInterval');
    const store = new SessionStore({ sweepIntervalMs: 5000 });
    const timer = spy.mock.results[0]?.value as NodeJS.Timeout;
    expect(spy).toHaveBeenCalledWith(expect.any(Function), 5000);
    expect(timer.hasRef()).toBe(false);
    store.close();
  });

  it('close() stops the sweeps and forgets every session, once', () => {
    const { t, store } = setup();
    store.applyDelta('s', setAttr('k', 1, ver()));
    store.close();
    store.close();
    expect(t.cancelled).toBe(1);
    expect(store.stats()).toMatchObject({ sessions: 0, bytes: 0 });
  });
});
