import { describe, expect, it } from 'vitest';
import { cluster, picks, tally, type WorkerSpec } from './helpers.js';

describe('least-conn', () => {
  it.each<{ what: string; workers: WorkerSpec[]; eligible?: string[]; expected: string }>([
    { what: 'fewest connections', workers: [{ name: 'a', conns: 3 }, { name: 'b', conns: 1 }, { name: 'c', conns: 2 }], expected: 'b' },
    { what: 'pending handoffs count', workers: [{ name: 'a', conns: 1, pending: 3 }, { name: 'b', conns: 2 }], expected: 'b' },
    { what: 'per unit of weight', workers: [{ name: 'a', weight: 2, conns: 4 }, { name: 'b', conns: 3 }], expected: 'a' },
    { what: 'heavier weight loses when relatively busier', workers: [{ name: 'a', weight: 2, conns: 7 }, { name: 'b', conns: 3 }], expected: 'b' },
    { what: 'inflight and elu are not its business', workers: [{ name: 'a', conns: 1, inflight: 50, elu: 1 }, { name: 'b', conns: 2 }], expected: 'a' },
    {
      what: 'least loaded but ineligible is skipped',
      workers: [{ name: 'a', conns: 0 }, { name: 'b', conns: 5 }, { name: 'c', conns: 3 }],
      eligible: ['b', 'c'],
      expected: 'c',
    },
  ])('$what -> $expected', ({ workers, eligible, expected }) => {
    const c = cluster('least-conn', workers);
    expect(picks(c, 3, { eligible: eligible ? c.only(...eligible) : undefined })).toEqual([expected, expected, expected]);
  });

  it('w=2 with 4 conns ties w=1 with 2 conns: they alternate, the busier third never picked', () => {
    const c = cluster('least-conn', [{ name: 'a', weight: 2, conns: 4 }, { name: 'b', conns: 2 }, { name: 'c', conns: 3 }]);
    expect(picks(c, 6).join(' ')).toBe('a b a b a b');
  });

  it('ties rotate: an idle cluster spreads a burst over everyone', () => {
    const c = cluster('least-conn', [{ name: 'a' }, { name: 'b' }, { name: 'c' }, { name: 'd' }]);
    expect(picks(c, 8).join(' ')).toBe('a b c d a b c d');
  });

  it('connections accumulate in proportion to weight', () => {
    const c = cluster('least-conn', [{ name: 'a', weight: 3 }, { name: 'b', weight: 1 }, { name: 'c', weight: 2 }]);
    expect(tally(picks(c, 600, { connect: true }))).toEqual({ a: 300, b: 100, c: 200 });
  });

  it('fills the emptier worker first, then shares', () => {
    const c = cluster('least-conn', [{ name: 'a', conns: 5 }, { name: 'b', conns: 0 }]);
    expect(picks(c, 7, { connect: true }).join(' ')).toBe('b b b b b a b');
  });

  // Three warm workers at 10 connections each; d became ready at t=0 with none.
  const warm = (): WorkerSpec[] => [
    { name: 'a', conns: 10 },
    { name: 'b', conns: 10 },
    { name: 'c', conns: 10 },
    { name: 'd', conns: 0, readyAt: 0 },
  ];

  it('without slow start a cold worker takes every new connection until it catches up', () => {
    const c = cluster('least-conn', warm(), { slowStartMs: 0 });
    expect(picks(c, 10, { now: 0, connect: true })).toEqual(Array(10).fill('d'));
  });

  it('slow start: right after readyAt the cold worker gets a small share', () => {
    const c = cluster('least-conn', warm(), { slowStartMs: 1000 });
    const first10 = tally(picks(c, 10, { now: 0, connect: true }))['d'] ?? 0;
    expect(first10).toBeLessThanOrEqual(2);
    picks(c, 290, { now: 0, connect: true });
    const d = c.byName.get('d')!.conns;
    const others = (c.byName.get('a')!.conns + c.byName.get('b')!.conns + c.byName.get('c')!.conns) / 3;
    // Effective weight 0.1: d holds about a tenth of what each warm worker holds.
    expect(d).toBeGreaterThan(0);
    expect(d / others).toBeGreaterThan(0.05);
    expect(d / others).toBeLessThan(0.15);
  });

  it('slow start: halfway through it holds about 55% of a warm worker', () => {
    const c = cluster('least-conn', warm(), { slowStartMs: 1000 });
    picks(c, 300, { now: 500, connect: true });
    const ratio = c.byName.get('d')!.conns / c.byName.get('a')!.conns;
    expect(ratio).toBeGreaterThan(0.5);
    expect(ratio).toBeLessThan(0.6);
  });

  it('slow start: after slowStartMs it has its full share', () => {
    const c = cluster('least-conn', warm(), { slowStartMs: 1000 });
    picks(c, 300, { now: 1000, connect: true });
    const conns = ['a', 'b', 'c', 'd'].map((n) => c.byName.get(n)!.conns);
    expect(Math.max(...conns) - Math.min(...conns)).toBeLessThanOrEqual(1);
  });
});
