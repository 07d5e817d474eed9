import { describe, expect, it } from 'vitest';
import { cluster, picks } from './helpers.js';

const abc = [{ name: 'a' }, { name: 'b' }, { name: 'c' }];

describe('round-robin', () => {
  it.each([
    { eligible: ['a', 'b', 'c'], expected: 'a b c a b c a' },
    { eligible: ['a', 'c'], expected: 'a c a c a c a' },
    { eligible: ['b'], expected: 'b b b b b b b' },
    { eligible: ['b', 'c'], expected: 'b c b c b c b' },
  ])('rotates over eligible $eligible', ({ eligible, expected }) => {
    const c = cluster('round-robin', abc);
    expect(picks(c, 7, { eligible: c.only(...eligible) }).join(' ')).toBe(expected);
  });

  it('a skipped worker takes its normal place once eligible again', () => {
    const c = cluster('round-robin', abc);
    const seq = [...picks(c, 1), ...picks(c, 3, { eligible: c.only('a', 'c') }), ...picks(c, 4)];
    expect(seq.join(' ')).toBe('a c a c a b c a');
  });

  it('ignores load: rotation is the same whatever the connection counts', () => {
    const c = cluster('round-robin', [{ name: 'a', conns: 100 }, { name: 'b' }, { name: 'c', pending: 9 }]);
    expect(picks(c, 6, { connect: true }).join(' ')).toBe('a b c a b c');
  });

  it('removing a worker mid-rotation neither skips nor repeats the others', () => {
    const c = cluster('round-robin', abc);
    expect(picks(c, 2).join(' ')).toBe('a b');
    c.s.remove(c.byName.get('a')!.id);
    expect(picks(c, 4).join(' ')).toBe('c b c b');
  });

  it('removing the worker that is next up hands the turn to the one after it', () => {
    const c = cluster('round-robin', abc);
    expect(picks(c, 1).join(' ')).toBe('a');
    c.s.remove(c.byName.get('b')!.id);
    expect(picks(c, 3).join(' ')).toBe('c a c');
  });

  it('a worker added later joins the rotation at the end', () => {
    const c = cluster('round-robin', [{ name: 'a' }, { name: 'b' }]);
    expect(picks(c, 1).join(' ')).toBe('a');
    const d = { id: 99, weight: 1, conns: 0, pending: 0, inflight: 0, elu: 0, readyAt: 0 };
    c.s.add(d);
    const seq = Array.from({ length: 5 }, () => c.s.pick({ now: 0 }, () => true)?.id);
    expect(seq).toEqual([2, 99, 1, 2, 99]);
  });
});
