import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HybridClock, formatHlc } from '../../../runtime/session/hlc.js';
import {
  emptyState, join, merge, setAttr, view, type Attr, type Delta, type SessionState,
} from '../../../runtime/session/model.js';
import { Cluster, KEYS, actionArb } from './sim.js';

// A small version space on purpose: it makes equal walls, equal logicals and
// even equal versions with different content (the tie rule) common.
const versionArb = fc.record({ wall: fc.nat(6), logical: fc.nat(1), node: fc.constantFrom('a', 'b') }).map(formatHlc);
const attrArb: fc.Arbitrary<Attr> = fc.oneof(
  fc.record({ version: versionArb, value: fc.oneof(fc.nat(3), fc.constantFrom('x', null, [1], { o: 1 })) }),
  fc.record({ version: versionArb, tombstone: fc.constant(true as const) }),
);
const deltaArb: fc.Arbitrary<Delta> = fc.record(
  {
    attrs: fc.dictionary(fc.constantFrom(...KEYS, 'constructor'), attrArb, { maxKeys: 4 }),
    destroyed: versionArb,
    touchedAt: fc.nat(5),
    expiresAt: fc.nat(9),
  },
  { requiredKeys: [] },
);
const stateArb: fc.Arbitrary<SessionState> = deltaArb.map((d) => merge(emptyState(), d));
const applyAll = (s: SessionState, ds: readonly Delta[]): SessionState => ds.reduce(merge, s);

describe('merge is a semilattice join (property)', () => {
  it('commutative: two deltas in either order give the same state', () => {
    fc.assert(fc.property(stateArb, deltaArb, deltaArb, (s, a, b) => {
      expect(merge(merge(s, a), b)).toEqual(merge(merge(s, b), a));
      expect(join(a, b)).toEqual(join(b, a));
    }));
  });

  it('associative: grouping does not matter', () => {
    fc.assert(fc.property(stateArb, deltaArb, deltaArb, deltaArb, (s, a, b, c) => {
      expect(merge(s, join(a, b))).toEqual(merge(merge(s, a), b));
      expect(join(join(a, b), c)).toEqual(join(a, join(b, c)));
    }));
  });

  it('idempotent: a duplicate changes nothing', () => {
    fc.assert(fc.property(stateArb, deltaArb, (s, a) => {
      const once = merge(s, a);
      expect(merge(once, a)).toBe(once);
      expect(merge(once, once)).toBe(once);
      expect(merge(emptyState(), join(a, a))).toEqual(merge(emptyState(), a));
    }));
  });

  it('any permutation of any multiset of deltas gives the same state', () => {
    const arb = fc.array(deltaArb, { minLength: 1, maxLength: 8 }).chain((ds) =>
      fc.tuple(fc.constant(ds), fc.shuffledSubarray([...ds, ...ds], { minLength: 2 * ds.length })));
    fc.assert(fc.property(arb, ([ds, shuffled]) => {
      expect(applyAll(emptyState(), shuffled)).toEqual(applyAll(emptyState(), ds));
    }));
  });

  it('survives JSON round trips (what IPC and Redis do to deltas)', () => {
    fc.assert(fc.property(stateArb, deltaArb, (s, a) => {
      const wire = JSON.parse(JSON.stringify(a)) as Delta;
      expect(view(merge(s, wire))).toEqual(view(merge(s, a)));
    }));
  });
});

describe('replicas converge (property)', () => {
  it('3-5 replicas with skewed clocks, lossy ordering and duplicates converge on last-writer-wins', () => {
    const arb = fc.integer({ min: 3, max: 5 }).chain((n) => fc.record({
      n: fc.constant(n),
      skews: fc.array(fc.integer({ min: -2000, max: 2000 }), { minLength: n, maxLength: n }),
      actions: fc.array(actionArb(n), { maxLength: 80 }),
      picks: fc.array(fc.nat(), { maxLength: 40 }),
    }));
    fc.assert(fc.property(arb, ({ n, skews, actions, picks }) => {
      const c = new Cluster(n, skews);
      for (const a of actions) c.run(a);
      c.settle(picks);
      const [first, ...rest] = c.replicas.map((r) => r.state);
      for (const s of rest) expect(s).toEqual(first);
      // Converging is not enough (all-empty would converge): it must be the right state.
      expect(view(first!)).toEqual(c.expectedView());
    }), { numRuns: 300 });
  });
});

describe('concurrent writers of different keys (property)', () => {
  it('never lose each other\'s change, whatever the delivery order', () => {
    const arb = fc.record({
      writers: fc.uniqueArray(fc.string({ minLength: 1, maxLength: 4 }), { minLength: 2, maxLength: 5 }),
      base: fc.dictionary(fc.string({ maxLength: 3 }), fc.nat(9), { maxKeys: 3 }),
      skews: fc.array(fc.integer({ min: -5000, max: 5000 }), { minLength: 5, maxLength: 5 }),
      order: fc.array(fc.nat(), { minLength: 25, maxLength: 25 }),
    });
    fc.assert(fc.property(arb, ({ writers, base, skews, order }) => {
      // Every replica starts from the same session (written long ago by node "z").
      let shared = emptyState();
      for (const [k, val] of Object.entries(base)) shared = merge(shared, setAttr(`base:${k}`, val, formatHlc({ wall: 1, logical: 0, node: 'z' })));
      const states = writers.map(() => shared);
      // Each replica writes its own key without having seen the others' writes.
      const deltas = writers.map((w, i) => {
        const clock = new HybridClock(`n${i}`, { wallClock: () => 1_000_000 + skews[i]! });
        return setAttr(`key:${w}`, `by ${w}`, formatHlc(clock.now()));
      });
      states.forEach((_, i) => {
        const incoming = deltas.map((d, j) => ({ d, rank: order[i * 5 + j]! })).sort((x, y) => x.rank - y.rank);
        for (const { d } of incoming) states[i] = merge(states[i]!, d);
      });
      for (const s of states) {
        const v = view(s);
        for (const w of writers) expect(v[`key:${w}`]).toBe(`by ${w}`);
        for (const [k, val] of Object.entries(base)) expect(v[`base:${k}`]).toBe(val);
      }
    }));
  });

  it('a whole-session store, by contrast, loses one of the two (why the design is per attribute)', () => {
    // What express-session + connect-redis do: each request writes back the whole session it read.
    const read = { user: 'ann' };
    const requestA = { ...read, cart: [1] };
    const requestB = { ...read, theme: 'dark' };
    const wholeSessionStore = [requestA, requestB].at(-1)!; // last save wins
    expect(wholeSessionStore).not.toHaveProperty('cart');

    const base = merge(emptyState(), setAttr('user', 'ann', formatHlc({ wall: 1, logical: 0, node: 'z' })));
    const a = setAttr('cart', [1], formatHlc({ wall: 5, logical: 0, node: 'w1' }));
    const b = setAttr('theme', 'dark', formatHlc({ wall: 5, logical: 0, node: 'w2' }));
    expect(view(merge(merge(base, a), b))).toEqual({ user: 'ann', cart: [1], theme: 'dark' });
  });
});
