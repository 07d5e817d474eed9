/**
 * The kernel-accept gate (runtime/scheduler/gate.ts) as tables: the key of
 * a load, and whether a worker accepts given the floor. Then a simulation
 * of the contest: workers that follow the gate, with the floor recomputed
 * from their counts, stay within the slack of each other whatever order
 * the kernel offers connections in.
 */
import { describe, expect, it } from 'vitest';
import { acceptKey, mayAccept, roundFloor, type GateBalancer, type GateLoad } from '../../../runtime/scheduler/gate.js';
import { effectiveWeight } from '../../../runtime/scheduler/weight.js';

const load = (conns: number, inflight = 0, elu = 0): GateLoad => ({ conns, inflight, elu, pending: 0 });

describe('acceptKey', () => {
  it.each([
    ['least-conn', load(0), 1, 1],
    ['least-conn', load(4), 1, 5],
    ['least-conn', load(4), 2, 2.5],
    // A worker at 10% of its weight (slow start) with no connection weighs like one with 9.
    ['least-conn', load(0), 0.1, 10],
    ['least-conn', load(4, 3, 0.9), 1, 5], // least-conn ignores requests and the event loop
    ['least-load', load(0), 1, 1],
    ['least-load', load(2, 1), 1, 4],
    ['least-load', load(2, 1, 1), 1, 4.5],
    ['least-load', load(2, 1, 1), 2, 2.25],
  ] as [GateBalancer, GateLoad, number, number][])('%s %o at weight %d -> %d', (b, l, w, key) => {
    expect(acceptKey(b, l, w)).toBeCloseTo(key, 10);
  });
});

describe('mayAccept', () => {
  it.each([
    // least-conn, slack 1: accept while (conns + 1) <= floor + 1
    ['least-conn', load(3), 1, 4, 1, true],   // the least loaded itself (its key is the floor)
    ['least-conn', load(4), 1, 4, 1, true],   // one above
    ['least-conn', load(5), 1, 4, 1, false],  // two above: sits out
    ['least-conn', load(9), 2, 4, 1, true],   // weight 2: 10 / 2 = 5 <= 5
    ['least-conn', load(10), 2, 4, 1, false],
    // least-load, slack 0.5: a busy worker sits out while one with the same connections idles
    ['least-load', load(3), 1, 4, 0.5, true],
    ['least-load', load(3, 1), 1, 4, 0.5, false],
    ['least-load', load(3, 1), 1, 5, 0.5, true],  // everyone is that busy: the floor says so
  ] as [GateBalancer, GateLoad, number, number, number, boolean][])('%s %o weight %d floor %d slack %d -> %s', (b, l, w, floor, slack, ok) => {
    expect(mayAccept(b, l, w, floor, slack)).toBe(ok);
  });

  it('the least loaded worker always accepts, at any slack, weight and ramp', () => {
    for (const b of ['least-conn', 'least-load'] as const) {
      for (const conns of [0, 1, 7, 100]) {
        for (const w of [0.1, 0.37, 1, 3]) {
          for (const slack of [0.1, 0.5, 1, 2]) {
            const l = load(conns, conns % 3, 0.4);
            expect(mayAccept(b, l, w, roundFloor(acceptKey(b, l, w)), slack)).toBe(true);
          }
        }
      }
    }
  });
});

describe('the accept contest', () => {
  /**
   * Each step the kernel offers a connection to one worker chosen by `offer`
   * among those accepting; the floor is recomputed every `staleness` steps
   * (the primary hears of loads in batches). Returns the final counts.
   */
  function contest(n: number, steps: number, offer: (accepting: number[], step: number) => number, staleness: number, slack = 1): number[] {
    const conns = Array<number>(n).fill(0);
    let floor = 1;
    for (let step = 0; step < steps; step++) {
      if (step % staleness === 0) floor = roundFloor(Math.min(...conns.map((c) => acceptKey('least-conn', load(c), 1))));
      let accepting = conns.flatMap((c, i) => (mayAccept('least-conn', load(c), 1, floor, slack) ? [i] : []));
      // Everyone sits out on a stale floor: the pause reports reach the primary, which raises it.
      if (accepting.length === 0) {
        floor = roundFloor(Math.min(...conns.map((c) => acceptKey('least-conn', load(c), 1))));
        accepting = conns.flatMap((c, i) => (mayAccept('least-conn', load(c), 1, floor, slack) ? [i] : []));
      }
      conns[offer(accepting, step)]!++;
    }
    return conns;
  }

  it.each([
    ['always the last to wait (the kernel\'s LIFO wake-up)', (a: number[]) => a.at(-1)!],
    ['always the first', (a: number[]) => a[0]!],
    ['round robin over whoever accepts', (a: number[], s: number) => a[s % a.length]!],
  ])('%s: 4 workers, 100 connections end within slack + 1 of each other', (_name, offer) => {
    for (const staleness of [1, 5, 25]) {
      const c = contest(4, 100, offer, staleness);
      expect(Math.max(...c) - Math.min(...c), `${c.join('/')} at staleness ${staleness}`).toBeLessThanOrEqual(2);
    }
  });

  it('without the gate, a LIFO kernel gives one worker everything', () => {
    const c = contest(4, 100, (a) => a.at(-1)!, 1, 1000);
    expect(c).toEqual([0, 0, 0, 100]);
  });

  it('a ramping worker takes a small share at first, its full share after the ramp', () => {
    // Worker 2 joined just now (10% of its weight) next to worker 1 with 20 connections; the
    // floor is recomputed from both counts after each accept, and the kernel offers every
    // connection to worker 2 first whenever it accepts (it is the idle one).
    const share = (msAfterJoin: number): number => {
      const w2 = effectiveWeight({ weight: 1, readyAt: 0 }, msAfterJoin, 2000);
      const conns = [20, 0];
      for (let i = 0; i < 20; i++) {
        const floor = roundFloor(Math.min(acceptKey('least-conn', load(conns[0]!), 1), acceptKey('least-conn', load(conns[1]!), w2)));
        conns[mayAccept('least-conn', load(conns[1]!), w2, floor, 1) ? 1 : 0]!++;
      }
      return conns[1]!;
    };
    expect(share(0)).toBeLessThanOrEqual(4);
    expect(share(1000)).toBeGreaterThan(share(0));
    expect(share(2000)).toBeGreaterThanOrEqual(18); // full weight: it catches up with worker 1
  });
});
