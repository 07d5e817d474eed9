import { describe, expect, it } from 'vitest';
import { isShoalError } from '../../../runtime/errors.js';
import {
  BALANCERS,
  createScheduler,
  DEFAULT_BALANCER,
  DEFAULT_SLOW_START_MS,
  effectiveWeight,
  isBalancerName,
  SLOW_START_FLOOR,
  type BalancerName,
  type PickContext,
} from '../../../runtime/scheduler/index.js';
import { seeded, worker } from './helpers.js';

const ctx: PickContext = { now: 0, remoteAddress: '203.0.113.7' };

describe.each(BALANCERS.map((name) => ({ name })))('every strategy: $name', ({ name }) => {
  const make = () => {
    const s = createScheduler(name, { slowStartMs: 0, random: seeded(5) });
    const ws = [1, 2, 3, 4].map((id) => worker(id, { conns: id }));
    for (const w of ws) s.add(w);
    return { s, ws };
  };

  it('reports its name and size', () => {
    const { s } = make();
    expect(s.name).toBe(name);
    expect(s.size).toBe(4);
  });

  it('returns undefined when nothing is eligible', () => {
    const { s } = make();
    expect(s.pick(ctx, () => false)).toBeUndefined();
    expect(s.pick({ now: 0 }, () => false)).toBeUndefined();
  });

  it('returns undefined when empty, and after all workers are removed', () => {
    expect(createScheduler(name).pick(ctx, () => true)).toBeUndefined();
    const { s } = make();
    for (const id of [3, 1, 4, 2]) s.remove(id);
    expect(s.size).toBe(0);
    expect(s.pick(ctx, () => true)).toBeUndefined();
    expect(s.pick({ now: 0 }, () => true)).toBeUndefined();
  });

  it('removing an unknown id is a no-op: same size, same picks as an untouched twin', () => {
    const { s } = make();
    const twin = make().s;
    s.remove(99);
    s.remove(99);
    expect(s.size).toBe(4);
    const seq = (x: typeof s) => Array.from({ length: 12 }, (_, i) => x.pick({ now: 0, remoteAddress: `10.0.0.${i}` }, () => true)?.id);
    expect(seq(s)).toEqual(seq(twin));
  });

  it('only ever returns an eligible worker, and the very object that was added', () => {
    const { s, ws } = make();
    const r = seeded(11);
    for (let i = 0; i < 500; i++) {
      const ok = new Set(ws.filter(() => r() < 0.5).map((w) => w.id));
      const w = s.pick({ now: i, remoteAddress: `198.51.100.${i % 256}` }, (x) => ok.has(x.id));
      if (ok.size === 0) expect(w).toBeUndefined();
      else {
        expect(w).toBeDefined();
        expect(ok.has(w!.id)).toBe(true);
        expect(ws).toContain(w);
      }
    }
  });

  it('adding an id that is already present replaces it rather than duplicating it', () => {
    const { s } = make();
    const fresh = worker(2, { conns: 0 });
    s.add(fresh);
    expect(s.size).toBe(4);
    expect(s.pick(ctx, (w) => w.id === 2)).toBe(fresh);
  });
});

describe('effectiveWeight', () => {
  it.each([
    { weight: 1, readyAt: 0, now: 0, slowStartMs: 0, expected: 1 },
    { weight: 3, readyAt: 0, now: 0, slowStartMs: 0, expected: 3 },
    { weight: 1, readyAt: 0, now: 0, slowStartMs: 1000, expected: SLOW_START_FLOOR },
    { weight: 2, readyAt: 0, now: 0, slowStartMs: 1000, expected: 2 * SLOW_START_FLOOR },
    { weight: 1, readyAt: 0, now: -50, slowStartMs: 1000, expected: SLOW_START_FLOOR },
    { weight: 1, readyAt: 100, now: 600, slowStartMs: 1000, expected: SLOW_START_FLOOR + (1 - SLOW_START_FLOOR) / 2 },
    { weight: 4, readyAt: 0, now: 250, slowStartMs: 1000, expected: 4 * (SLOW_START_FLOOR + (1 - SLOW_START_FLOOR) / 4) },
    { weight: 1, readyAt: 0, now: 1000, slowStartMs: 1000, expected: 1 },
    { weight: 2, readyAt: 0, now: 99_999, slowStartMs: 1000, expected: 2 },
  ])('weight $weight, ready at $readyAt, now $now, ramp $slowStartMs -> $expected', ({ expected, now, slowStartMs, ...w }) => {
    expect(effectiveWeight(w, now, slowStartMs)).toBeCloseTo(expected, 10);
  });

  it('the floor is a small positive share', () => {
    expect(SLOW_START_FLOOR).toBeGreaterThan(0);
    expect(SLOW_START_FLOOR).toBeLessThanOrEqual(0.25);
  });
});

describe('createScheduler / isBalancerName', () => {
  it.each([
    ['least-conn', true],
    ['round-robin', true],
    ['weighted-round-robin', true],
    ['ip-hash', true],
    ['least-load', true],
    ['random', false],
    ['Least-Conn', false],
    ['', false],
    ['least-conn ', false],
  ])('isBalancerName(%j) is %s', (s, expected) => {
    expect(isBalancerName(s)).toBe(expected);
  });

  it('defaults: least-conn is the default balancer, slow start is 2 s', () => {
    expect(DEFAULT_BALANCER).toBe('least-conn');
    expect(DEFAULT_SLOW_START_MS).toBe(2000);
    // The default ramp is in effect: a worker ready 1 s ago is at about half weight.
    const s = createScheduler('weighted-round-robin');
    s.add(worker(1, { readyAt: -1e9 }));
    s.add(worker(2, { readyAt: 0 }));
    let two = 0;
    for (let i = 0; i < 1000; i++) if (s.pick({ now: 1000 }, () => true)?.id === 2) two++;
    const w = SLOW_START_FLOOR + (1 - SLOW_START_FLOOR) / 2;
    expect(two / 1000).toBeCloseTo(w / (1 + w), 2);
  });

  it('uses the injected random source (least-load)', () => {
    let calls = 0;
    const s = createScheduler('least-load', { random: () => (calls++, 0) });
    s.add(worker(1));
    s.add(worker(2));
    s.pick({ now: 0 }, () => true);
    expect(calls).toBe(2);
  });

  it.each([-1, Number.NaN, Number.POSITIVE_INFINITY])('rejects slowStartMs %s', (slowStartMs) => {
    expect(() => createScheduler('least-conn', { slowStartMs })).toThrow(RangeError);
  });

  it('rejects an unknown name coming from untyped input with SHOAL_ERR_UNKNOWN_BALANCER', () => {
    try {
      createScheduler('random' as BalancerName);
      expect.unreachable();
    } catch (e) {
      expect(isShoalError(e) && e.code).toBe('SHOAL_ERR_UNKNOWN_BALANCER');
    }
  });
});
