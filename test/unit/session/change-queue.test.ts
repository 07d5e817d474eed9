/** The queue of changes a host has for Redis (runtime/session/redis/change-queue.ts). */
import { describe, expect, it } from 'vitest';
import { ChangeQueue } from '../../../runtime/session/redis/change-queue.js';
import { formatHlc } from '../../../runtime/session/hlc.js';
import { setAttr, type Delta } from '../../../runtime/session/model.js';

const v = (wall: number): string => formatHlc({ wall, logical: 0, node: 'w' });
const set = (k: string, value: unknown, wall: number): Delta => setAttr(k, value, v(wall));
const big = { queueMax: 1_000, queueMaxBytes: 1_000_000 };
/** The size the queue counts for one of the deltas the bound test adds (its JSON length). */
const oneBytes = JSON.stringify(setAttr('k', 'x'.repeat(40), v(1))).length;
const valueOf = (d: Delta | undefined, k: string): unknown => (d?.attrs?.[k] as { value?: unknown } | undefined)?.value;

describe('ChangeQueue', () => {
  it('joins changes per session', () => {
    const q = new ChangeQueue(big);
    expect(q.add([['s1', set('a', 1, 1)], ['s2', set('a', 2, 2)]])).toBe(true);
    expect(q.add([['s1', set('b', 3, 3)]])).toBe(true);
    expect(q.size).toBe(2);
    expect(Object.keys(q.pending('s1')?.attrs ?? {}).sort()).toEqual(['a', 'b']);
    expect(q.bytes).toBeGreaterThan(0);
  });

  it.each([
    ['sessions', { queueMax: 2, queueMaxBytes: 1_000_000 }, 3],
    ['bytes', { queueMax: 1_000, queueMaxBytes: 3 * oneBytes }, 4],
  ])('add() says false once a bound (%s) is passed, and clear() empties it', (_what, bounds, overAt) => {
    const q = new ChangeQueue(bounds);
    const results: boolean[] = [];
    for (let i = 1; i <= overAt; i++) results.push(q.add([[`s${i}`, set('k', 'x'.repeat(40), i)]]));
    expect(results).toEqual([...Array<boolean>(overAt - 1).fill(true), false]);
    q.clear();
    expect([q.size, q.bytes, q.pending('s1')]).toEqual([0, 0, undefined]);
  });

  it('a batch in flight is still pending; a written one is gone and its waiters go', async () => {
    const q = new ChangeQueue(big);
    q.add([['s1', set('a', 1, 1)]]);
    let released = false;
    const waited = q.wait(60_000).then(() => { released = true; });
    const { batch, settle } = q.take();
    expect([...batch.keys()]).toEqual(['s1']);
    expect([q.size, q.depth]).toEqual([0, 1]); // not queued any more, not in Redis yet either
    expect(valueOf(q.pending('s1'), 'a')).toBe(1);
    q.add([['s1', set('b', 2, 2)]]); // came while the batch was being written: in both
    expect(Object.keys(q.pending('s1')?.attrs ?? {}).sort()).toEqual(['a', 'b']);
    q.add([['s2', set('a', 3, 3)]]);
    expect([q.size, q.depth]).toEqual([2, 2]); // s1 counted once
    await Promise.resolve();
    expect(released).toBe(false);
    settle(true);
    await waited;
    expect(Object.keys(q.pending('s1')?.attrs ?? {})).toEqual(['b']);
    expect(q.depth).toBe(2);
  });

  it('a failed batch joins back under what came meanwhile: the later write of an attribute wins', () => {
    const q = new ChangeQueue(big);
    q.add([['s1', set('a', 'old', 1)], ['s2', set('a', 'x', 1)]]);
    const { settle } = q.take();
    q.add([['s1', set('a', 'new', 5)]]);
    settle(false);
    expect(q.size).toBe(2);
    expect(valueOf(q.pending('s1'), 'a')).toBe('new');
    expect(valueOf(q.pending('s2'), 'a')).toBe('x');
  });

  it('wait() ends at its timeout, or at release(), whichever is first', async () => {
    const q = new ChangeQueue(big);
    const t0 = Date.now();
    await q.wait(20);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(15);
    const long = q.wait(60_000);
    q.release();
    await long; // would time the test out without release()
  });
});
