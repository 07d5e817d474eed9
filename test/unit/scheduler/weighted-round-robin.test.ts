import { describe, expect, it } from 'vitest';
import { SLOW_START_FLOOR } from '../../../runtime/scheduler/index.js';
import { cluster, picks, tally } from './helpers.js';

const named = (weights: number[]) => weights.map((weight, i) => ({ name: 'abcdefg'[i] ?? `w${i}`, weight }));

describe('weighted-round-robin', () => {
  it('weights 5,1,1 give the nginx smooth sequence a a b a c a a, period after period', () => {
    const c = cluster('weighted-round-robin', named([5, 1, 1]));
    expect(picks(c, 14).join(' ')).toBe('a a b a c a a a a b a c a a');
  });

  it.each([
    { weights: [1, 1, 1], expected: 'a b c a b c' },
    { weights: [2, 1], expected: 'a b a a b a' },
    { weights: [3, 2], expected: 'a b a b a' },
  ])('weights $weights interleave as $expected', ({ weights, expected }) => {
    const c = cluster('weighted-round-robin', named(weights));
    expect(picks(c, expected.split(' ').length).join(' ')).toBe(expected);
  });

  it.each([
    { weights: [5, 1, 1], expected: { a: 5000, b: 1000, c: 1000 } },
    { weights: [2, 3, 2], expected: { a: 2000, b: 3000, c: 2000 } },
    { weights: [4, 2, 1], expected: { a: 4000, b: 2000, c: 1000 } },
    { weights: [3, 3, 1], expected: { a: 3000, b: 3000, c: 1000 } },
    { weights: [1, 1, 1, 1, 1, 1, 1], expected: { a: 1000, b: 1000, c: 1000, d: 1000, e: 1000, f: 1000, g: 1000 } },
    { weights: [6, 1], expected: { a: 6000, b: 1000 } },
  ])('over 7000 picks, weights $weights give exactly their shares', ({ weights, expected }) => {
    const c = cluster('weighted-round-robin', named(weights));
    expect(tally(picks(c, 7000))).toEqual(expected);
  });

  it('interleaves instead of bursting: weight 5 of 7 never gets its 5 picks back to back', () => {
    // Plain WRR would give a a a a a b c; the smooth one's longest run is 4 (a a | a a across periods).
    const seq = picks(cluster('weighted-round-robin', named([5, 1, 1])), 700).join('');
    expect(seq).not.toContain('aaaaa');
    expect(seq).toContain('aaaa');
  });

  it.each([
    { eligible: ['b', 'c'], expected: 'b c b c' },
    { eligible: ['a', 'c'], expected: 'a a a c' },
  ])('an ineligible worker sits out: $eligible -> $expected', ({ eligible, expected }) => {
    const c = cluster('weighted-round-robin', named([5, 1, 1]));
    expect(picks(c, 4, { eligible: c.only(...eligible) }).join(' ')).toBe(expected);
  });

  it('weights 5,1 over eligible a,c give a 5:1 ratio', () => {
    const c = cluster('weighted-round-robin', named([5, 1, 1]));
    expect(tally(picks(c, 600, { eligible: c.only('a', 'c') }))).toEqual({ a: 500, c: 100 });
  });

  // Three warm workers (weight 1) and d, ready at t=0, slow start 1000 ms.
  it.each([
    { now: 0, dWeight: SLOW_START_FLOOR },
    { now: 500, dWeight: SLOW_START_FLOOR + (1 - SLOW_START_FLOOR) * 0.5 },
    { now: 1000, dWeight: 1 },
    { now: 5000, dWeight: 1 },
  ])('slow start: at readyAt+$now ms the new worker gets weight $dWeight', ({ now, dWeight }) => {
    const c = cluster('weighted-round-robin', [{ name: 'a' }, { name: 'b' }, { name: 'c' }, { name: 'd', readyAt: 0 }], {
      slowStartMs: 1000,
    });
    const n = 6000;
    const share = (tally(picks(c, n, { now }))['d'] ?? 0) / n;
    expect(share).toBeCloseTo(dWeight / (3 + dWeight), 2);
  });

  it('slow start: a just-ready worker gets a small share, not a quarter', () => {
    const c = cluster('weighted-round-robin', [{ name: 'a' }, { name: 'b' }, { name: 'c' }, { name: 'd', readyAt: 0 }], {
      slowStartMs: 2000,
    });
    const d = tally(picks(c, 3100, { now: 0 }))['d'] ?? 0;
    expect(d).toBeGreaterThan(0);
    expect(d / 3100).toBeLessThan(0.05);
  });

  it('re-adding a worker resets its accumulated credit and keeps the others', () => {
    const c = cluster('weighted-round-robin', named([5, 1, 1]));
    expect(picks(c, 3).join(' ')).toBe('a a b'); // currents now a=1, b=-4, c=3
    const a = c.byName.get('a')!;
    c.s.remove(a.id);
    c.s.add(a); // order b, c, a; a starts at 0, b and c keep -4 and 3
    expect(picks(c, 7).join(' ')).toBe('a c a a a b a');
  });
});
