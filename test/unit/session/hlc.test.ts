import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isShoalError } from '../../../runtime/errors.js';
import {
  HybridClock, MAX_LOGICAL, compareHlc, formatHlc, parseHlc, randomNodeId, wallOf, type Hlc,
} from '../../../runtime/session/hlc.js';

const t = (wall: number, logical: number, node: string): Hlc => ({ wall, logical, node });

/** A clock whose physical time the test sets. */
function clockAt(node: string, start: number, maxDriftMs?: number) {
  const c = { ms: start, clock: undefined as unknown as HybridClock };
  c.clock = new HybridClock(node, { wallClock: () => c.ms, ...(maxDriftMs === undefined ? {} : { maxDriftMs }) });
  return c;
}

describe('HLC order', () => {
  it.each([
    [t(1, 0, 'a'), t(2, 0, 'a'), -1],
    [t(2, 0, 'a'), t(1, 9, 'z'), 1],
    [t(5, 1, 'a'), t(5, 2, 'a'), -1],
    [t(5, 3, 'a'), t(5, 2, 'z'), 1],
    [t(5, 2, 'a'), t(5, 2, 'b'), -1],
    [t(5, 2, 'b'), t(5, 2, 'a'), 1],
    [t(5, 2, 'a'), t(5, 2, 'a-b'), -1],
    [t(5, 2, 'w1'), t(5, 2, 'w1'), 0],
  ])('compare(%o, %o) = %i, and the encoding sorts the same', (a, b, expected) => {
    expect(compareHlc(a, b)).toBe(expected);
    const [ea, eb] = [formatHlc(a), formatHlc(b)];
    expect(ea < eb ? -1 : ea > eb ? 1 : 0).toBe(expected);
  });

  const hlcArb = fc.record({
    wall: fc.oneof(fc.integer({ min: 0, max: 50 }), fc.integer({ min: 0, max: 4_102_444_800_000 })),
    logical: fc.oneof(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: MAX_LOGICAL })),
    node: fc.stringMatching(/^[A-Za-z0-9._:-]{1,12}$/),
  });

  it('string order equals timestamp order, and parse inverts format (property)', () => {
    fc.assert(fc.property(hlcArb, hlcArb, (a, b) => {
      const [ea, eb] = [formatHlc(a), formatHlc(b)];
      expect(Math.sign(ea < eb ? -1 : ea > eb ? 1 : 0)).toBe(compareHlc(a, b));
      expect(parseHlc(ea)).toEqual(a);
      expect(wallOf(ea)).toBe(a.wall);
    }));
  });
});

describe('HLC encoding', () => {
  it('is fixed-width base 36 then the node id', () => {
    expect(formatHlc(t(0, 0, 'a'))).toBe('000000000.0000.a');
    expect(formatHlc(t(1_700_000_000_000, 37, 'w1'))).toBe(`${(1_700_000_000_000).toString(36).padStart(9, '0')}.0011.w1`);
  });

  it.each([
    '', 'x', '000000000.0000.', '00000000.0000.a', '000000000.000.a', '000000000.0000.a b', 'A00000000.0000.a',
    '000000000-0000-a', '000000000.0000.é', `000000000.0000.${'n'.repeat(65)}`,
  ])('parse refuses %j', (s) => {
    expect(parseHlc(s)).toBeUndefined();
  });

  it.each([
    t(-1, 0, 'a'), t(1.5, 0, 'a'), t(36 ** 9, 0, 'a'), t(0, MAX_LOGICAL + 1, 'a'), t(0, 0, ''), t(0, 0, 'a.b c'), t(0, 0, 'é'),
  ])('format refuses %o', (x) => {
    expect(() => formatHlc(x)).toThrow(RangeError);
  });

  it('random node ids are valid and distinct', () => {
    const ids = new Set(Array.from({ length: 100 }, () => randomNodeId('w')));
    expect(ids.size).toBe(100);
    for (const id of ids) expect(parseHlc(formatHlc(t(1, 0, id)))?.node).toBe(id);
  });
});

describe('HybridClock.now', () => {
  it('follows the wall clock when it moves forward', () => {
    const c = clockAt('a', 1000);
    expect(c.clock.now()).toEqual(t(1000, 0, 'a'));
    c.ms = 1005;
    expect(c.clock.now()).toEqual(t(1005, 0, 'a'));
  });

  it('counts events within one millisecond', () => {
    const c = clockAt('a', 1000);
    expect([c.clock.now(), c.clock.now(), c.clock.now()].map((x) => x.logical)).toEqual([0, 1, 2]);
  });

  it('stays monotonic when the wall clock goes back, and catches up after', () => {
    const c = clockAt('a', 1000);
    const seen = [c.clock.now()];
    for (const ms of [400, 900, 999, 1000, 1001, 500]) {
      c.ms = ms;
      seen.push(c.clock.now());
    }
    for (let i = 1; i < seen.length; i++) expect(compareHlc(seen[i - 1]!, seen[i]!)).toBe(-1);
    expect(seen.map((x) => `${x.wall}/${x.logical}`)).toEqual(['1000/0', '1000/1', '1000/2', '1000/3', '1000/4', '1001/0', '1001/1']);
  });

  it('carries a full counter into the wall instead of overflowing the encoding', () => {
    const c = clockAt('a', 1000);
    c.clock.receive(t(1000, MAX_LOGICAL - 1, 'b'));
    expect(c.clock.now()).toEqual(t(1001, 0, 'a'));
    expect(() => formatHlc(c.clock.last)).not.toThrow();
  });

  it('is monotonic for any walk of the wall clock (property)', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: -1000, max: 1000 }), { maxLength: 60 }), (steps) => {
      const c = clockAt('a', 10_000);
      let prev = c.clock.now();
      for (const s of steps) {
        c.ms += s;
        const next = c.clock.now();
        expect(formatHlc(prev) < formatHlc(next)).toBe(true);
        expect(next.wall).toBeGreaterThanOrEqual(c.ms);
        prev = next;
      }
    }));
  });
});

describe('HybridClock.receive', () => {
  // [local last (wall, logical), physical now, remote (wall, logical)] → result (wall, logical)
  it.each([
    { name: 'physical time ahead of both', last: [100, 5], pt: 200, remote: [150, 7], out: [200, 0] },
    { name: 'remote ahead', last: [100, 5], pt: 120, remote: [150, 7], out: [150, 8] },
    { name: 'local ahead', last: [180, 5], pt: 120, remote: [150, 7], out: [180, 6] },
    { name: 'same wall: max logical + 1', last: [150, 9], pt: 120, remote: [150, 7], out: [150, 10] },
    { name: 'same wall, remote logical higher', last: [150, 2], pt: 150, remote: [150, 7], out: [150, 8] },
    { name: 'remote in the past', last: [100, 1], pt: 100, remote: [50, 99], out: [100, 2] },
  ])('$name', ({ last, pt, remote, out }) => {
    // Bring the clock to exactly `last`.
    const fresh = clockAt('local', last[0]!);
    if (last[1]! > 0) fresh.clock.receive(t(last[0]!, last[1]! - 1, 'seed'));
    else fresh.clock.now();
    expect(fresh.clock.last).toEqual(t(last[0]!, last[1]!, 'local'));
    fresh.ms = pt;
    const r = fresh.clock.receive(t(remote[0]!, remote[1]!, 'remote'));
    expect([r.wall, r.logical]).toEqual(out);
    expect(compareHlc(r, t(remote[0]!, remote[1]!, 'remote'))).toBe(1);
    expect(compareHlc(fresh.clock.now(), r)).toBe(1);
  });

  it('a write after seeing a remote write wins over it, even with a slow local clock', () => {
    const fast = clockAt('fast', 10_000);
    const slow = clockAt('slow', 5_000);
    const remoteWrite = fast.clock.now();
    slow.clock.receive(remoteWrite);
    expect(formatHlc(slow.clock.now()) > formatHlc(remoteWrite)).toBe(true);
  });

  it('refuses a timestamp too far ahead and leaves the clock as it was', () => {
    const c = clockAt('a', 1000, 60_000);
    c.clock.now();
    const before = c.clock.last;
    let err: unknown;
    try { c.clock.receive(t(1000 + 60_001, 0, 'rogue')); } catch (e) { err = e; }
    expect(isShoalError(err) && err.code).toBe('SHOAL_ERR_CLOCK_DRIFT');
    expect((err as Error).message).toMatch(/rogue is 60001 ms ahead .*\(limit 60000 ms\)/);
    expect(c.clock.last).toEqual(before);
    expect(c.clock.receive(t(1000 + 60_000, 0, 'ok')).wall).toBe(61_000);
  });

  it('refuses invalid node ids', () => {
    expect(() => new HybridClock('has space')).toThrow(RangeError);
    expect(() => new HybridClock('')).toThrow(RangeError);
  });
});
