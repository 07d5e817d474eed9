import { describe, expect, it } from 'vitest';
import { ELU_WEIGHT, PENDING_WEIGHT } from '../../../runtime/scheduler/index.js';
import { cluster, picks, scripted, seeded, tally, type WorkerSpec } from './helpers.js';

describe('least-load', () => {
  it('the constants keep their documented roles', () => {
    expect(PENDING_WEIGHT).toBeGreaterThan(1); // a pending handoff outweighs an open connection
    expect(ELU_WEIGHT).toBeGreaterThan(0);
    expect(ELU_WEIGHT).toBeLessThan(1); // a fully busy loop is worth less than one connection
  });

  // Two workers: both are always sampled, so the lower score must win every time.
  it.each<{ what: string; workers: WorkerSpec[]; expected: string }>([
    { what: 'fewer connections', workers: [{ name: 'a', conns: 3 }, { name: 'b', conns: 1 }], expected: 'b' },
    { what: 'in-flight requests count', workers: [{ name: 'a', conns: 1, inflight: 5 }, { name: 'b', conns: 3 }], expected: 'b' },
    {
      what: 'a blocked worker (pending handoffs) is avoided',
      workers: [{ name: 'a', conns: 1, pending: 2 }, { name: 'b', conns: 6 }],
      expected: 'b',
    },
    { what: 'elu breaks ties between equally connected', workers: [{ name: 'a', conns: 2, elu: 0.9 }, { name: 'b', conns: 2, elu: 0.1 }], expected: 'b' },
    { what: 'elu does not outweigh a connection', workers: [{ name: 'a', conns: 2, elu: 0 }, { name: 'b', conns: 1, elu: 1 }], expected: 'b' },
    { what: 'per unit of weight', workers: [{ name: 'a', weight: 2, conns: 4 }, { name: 'b', conns: 3 }], expected: 'a' },
  ])('$what -> $expected, whatever random says', ({ workers, expected }) => {
    const c = cluster('least-load', workers, { slowStartMs: 0, random: seeded(7) });
    expect(tally(picks(c, 200))).toEqual({ [expected]: 200 });
  });

  it('with 2 workers picks the better one even at the edges of random', () => {
    for (const r of [0, 0.5, 0.999999]) {
      const c = cluster('least-load', [{ name: 'a', conns: 1 }, { name: 'b', conns: 0 }], { slowStartMs: 0, random: () => r });
      expect(picks(c, 5)).toEqual(['b', 'b', 'b', 'b', 'b']);
    }
  });

  // N = 4 with scores a < b < c < d; scripted draws select the sampled pair.
  const four: WorkerSpec[] = [
    { name: 'a', conns: 0 },
    { name: 'b', conns: 1 },
    { name: 'c', conns: 2 },
    { name: 'd', conns: 3 },
  ];
  it.each([
    { draws: [0, 0], pair: 'a,b', expected: 'a' },
    { draws: [0.5, 0.5], pair: 'c,b', expected: 'b' }, // a is least loaded but not sampled
    { draws: [0.9, 0], pair: 'd,a', expected: 'a' },
    { draws: [0.76, 0.67], pair: 'd,c', expected: 'c' },
    { draws: [0.99, 0.99], pair: 'd,c', expected: 'c' },
    { draws: [0.3, 0.99], pair: 'b,d', expected: 'b' },
  ])('N=4, draws $draws sample $pair -> $expected', ({ draws, expected }) => {
    const c = cluster('least-load', four, { slowStartMs: 0, random: scripted(draws) });
    expect(picks(c, 1)).toEqual([expected]);
  });

  it('N=4: samples pairs uniformly; the most loaded is never picked', () => {
    const c = cluster('least-load', four, { slowStartMs: 0, random: seeded(42) });
    const n = 6000;
    const t = tally(picks(c, n));
    // a wins every pair it is in (3 of 6), b wins {b,c},{b,d}, c wins {c,d}.
    expect((t['a'] ?? 0) / n).toBeCloseTo(3 / 6, 1);
    expect((t['b'] ?? 0) / n).toBeCloseTo(2 / 6, 1);
    expect((t['c'] ?? 0) / n).toBeCloseTo(1 / 6, 1);
    expect(t['d']).toBeUndefined();
  });

  it('draws twice per pick, and not at all when only one worker is eligible', () => {
    let draws = 0;
    const random = () => (draws++, 0.5);
    const c = cluster('least-load', four, { slowStartMs: 0, random });
    picks(c, 3);
    expect(draws).toBe(6);
    expect(picks(c, 3, { eligible: c.only('d') })).toEqual(['d', 'd', 'd']);
    expect(draws).toBe(6);
  });

  it('samples only among eligible workers', () => {
    const c = cluster('least-load', four, { slowStartMs: 0, random: seeded(1) });
    expect(tally(picks(c, 300, { eligible: c.only('c', 'd') }))).toEqual({ c: 300 });
  });

  it('ties rotate: an idle pair alternates whatever random says', () => {
    const c = cluster('least-load', [{ name: 'a' }, { name: 'b' }], { slowStartMs: 0, random: () => 0 });
    expect(picks(c, 6).join(' ')).toBe('a b a b a b');
  });

  it('ties rotate within the sampled pair: a worker sampled first every time does not take every tie', () => {
    // Draws make a the first sample each time, paired with b, c, d in turn; all idle, so every pair ties.
    const draws = [0, 0, 0, 0.4, 0, 0.7, 0, 0, 0, 0.4, 0, 0.7];
    const c = cluster('least-load', [{ name: 'a' }, { name: 'b' }, { name: 'c' }, { name: 'd' }], { slowStartMs: 0, random: scripted(draws) });
    expect(picks(c, 6).join(' ')).toBe('a c d a c d');
  });

  it('an idle cluster of 4 spreads connections evenly', () => {
    const c = cluster('least-load', [{ name: 'a' }, { name: 'b' }, { name: 'c' }, { name: 'd' }], { slowStartMs: 0, random: seeded(9) });
    const t = tally(picks(c, 4000));
    for (const n of ['a', 'b', 'c', 'd']) expect((t[n] ?? 0) / 4000).toBeCloseTo(0.25, 1);
  });

  it('slow start: a cold worker gets a small share right after readyAt, its full share later', () => {
    const run = (now: number) => {
      const c = cluster('least-load', [{ name: 'a', conns: 10 }, { name: 'd', readyAt: 0 }], { slowStartMs: 1000, random: seeded(3) });
      picks(c, 200, { now, connect: true });
      return c.byName.get('d')!.conns / c.byName.get('a')!.conns;
    };
    expect(run(0)).toBeLessThan(0.15);
    expect(run(1000)).toBeGreaterThan(0.95);
  });
});

describe('least-load: join the idle queue', () => {
  const pickOnce = (c: ReturnType<typeof cluster>, waitedMs: number | undefined) =>
    c.nameOf(c.s.pick({ now: 0, waitedMs }, () => true));

  it.each([
    // [workers, waitedMs, expected pick]
    [[{ name: 'a', inflight: 1 }, { name: 'b', inflight: 0, conns: 5 }], 0, 'b'],          // idle beats a lower score
    [[{ name: 'a', pending: 1 }, { name: 'b', conns: 3 }], 0, 'b'],                        // unacknowledged counts as busy
    [[{ name: 'a', inflight: 1 }, { name: 'b', inflight: 2 }], 0, undefined],             // all busy: hold
    [[{ name: 'a', inflight: 1 }, { name: 'b', inflight: 2 }], 99, undefined],            // still within the hold
    [[{ name: 'a', inflight: 1 }, { name: 'b', inflight: 2 }], 100, 'a'],                 // hold over: least loaded
    [[{ name: 'a', inflight: 1 }, { name: 'b', inflight: 2 }], undefined, 'a'],           // no wait known: never hold
  ] as const)('%j waited %s -> %s', (specs, waitedMs, expected) => {
    const c = cluster('least-load', specs.map((s) => ({ ...s })), { slowStartMs: 0, holdMs: 100 });
    expect(pickOnce(c, waitedMs)).toBe(expected);
  });

  it('samples among idle workers only when there are some', () => {
    const c = cluster('least-load', [
      { name: 'busy1', inflight: 1 }, { name: 'busy2', inflight: 1 },
      { name: 'idle1', conns: 1 }, { name: 'idle2', conns: 1 }, { name: 'idle3', conns: 1 },
    ], { slowStartMs: 0, holdMs: 100, random: seeded(7) });
    // Busy workers have lower scores here (no connections), yet only idle ones are sampled.
    const got = tally(Array.from({ length: 300 }, () => pickOnce(c, 0)));
    expect(Object.keys(got).sort()).toEqual(['idle1', 'idle2', 'idle3']);
  });

  it('the other strategies never hold', () => {
    for (const name of ['round-robin', 'least-conn', 'weighted-round-robin', 'ip-hash'] as const) {
      const c = cluster(name, [{ name: 'a', inflight: 3 }, { name: 'b', inflight: 3 }], { slowStartMs: 0, holdMs: 100 });
      expect(c.s.holdMs).toBe(0);
      expect(pickOnce(c, 0)).toBeDefined();
    }
  });
});
