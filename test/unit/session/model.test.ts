import { describe, expect, it } from 'vitest';
import { isShoalError } from '../../../runtime/errors.js';
import { formatHlc } from '../../../runtime/session/hlc.js';
import {
  deleteAttr, destroySession, emptyState, getAttr, isDestroyed, join, merge, purgeTombstones, setAttr, sizeOf, touchSession,
  view, type Delta, type SessionState,
} from '../../../runtime/session/model.js';

/** Version at wall `ms` (logical 0) from `node`. */
const v = (ms: number, node = 'a', logical = 0): string => formatHlc({ wall: ms, logical, node });
const apply = (...deltas: Delta[]): SessionState => deltas.reduce(merge, emptyState());

describe('set / delete', () => {
  it('set makes a value visible; a later set replaces it', () => {
    const s = apply(setAttr('user', { id: 1 }, v(1)), setAttr('user', { id: 2 }, v(2)));
    expect(view(s)).toEqual({ user: { id: 2 } });
    expect(getAttr(s, 'user')).toEqual({ id: 2 });
  });

  it('an older set arriving late loses', () => {
    const s = apply(setAttr('k', 'new', v(2)), setAttr('k', 'old', v(1)));
    expect(view(s)).toEqual({ k: 'new' });
  });

  it('delete hides the key with a tombstone, which beats an older set arriving late', () => {
    const s = apply(setAttr('k', 1, v(1)), deleteAttr('k', v(3)), setAttr('k', 2, v(2)));
    expect(view(s)).toEqual({});
    expect(getAttr(s, 'k')).toBeUndefined();
    expect(s.attrs.k).toEqual({ version: v(3), tombstone: true });
  });

  it('a set newer than the delete brings the key back', () => {
    expect(view(apply(deleteAttr('k', v(3)), setAttr('k', 'back', v(4))))).toEqual({ k: 'back' });
  });

  it('the same version from two nodes cannot tie: the node id orders them', () => {
    const s = apply(setAttr('k', 'from-b', v(5, 'b')), setAttr('k', 'from-a', v(5, 'a')));
    expect(view(s)).toEqual({ k: 'from-b' });
  });

  it('equal versions with different content (a reused node id) resolve the same in both orders', () => {
    const [x, y, del] = [setAttr('k', 'x', v(5)), setAttr('k', 'y', v(5)), deleteAttr('k', v(5))];
    expect(view(apply(x, y))).toEqual({ k: 'y' });
    expect(view(apply(y, x))).toEqual({ k: 'y' });
    expect(view(apply(x, del))).toEqual({});
    expect(view(apply(del, x))).toEqual({});
  });

  it('keys named like Object.prototype members are plain keys', () => {
    const s = apply(setAttr('__proto__', 'p', v(1)), setAttr('constructor', 'c', v(1)), setAttr('toString', 1, v(1)));
    expect(Object.keys(view(s)).sort()).toEqual(['__proto__', 'constructor', 'toString']);
    expect(getAttr(s, '__proto__')).toBe('p');
    expect(getAttr(emptyState(), 'constructor')).toBeUndefined();
    // The same from a delta that went through JSON (it has Object.prototype).
    const wire = JSON.parse(JSON.stringify(setAttr('constructor', 'w', v(2)))) as Delta;
    expect(getAttr(merge(s, wire), 'constructor')).toBe('w');
    expect(getAttr(merge(emptyState(), JSON.parse('{"attrs":{}}') as Delta), 'constructor')).toBeUndefined();
  });

  it('values go through JSON and are frozen, so every replica holds the same thing', () => {
    const d = setAttr('k', { when: new Date(0), n: NaN, list: [1, { x: 2 }] }, v(1));
    const s = apply(d);
    expect(view(s)).toEqual({ k: { when: '1970-01-01T00:00:00.000Z', n: null, list: [1, { x: 2 }] } });
    expect(view(s)).toEqual(view(apply(JSON.parse(JSON.stringify(d)) as Delta)));
    const k = getAttr(s, 'k') as { list: { x: number }[] };
    expect(() => { k.list[1]!.x = 3; }).toThrow(TypeError);
  });

  it.each([
    ['undefined', undefined], ['a function', () => 1], ['a bigint', 1n], ['a symbol', Symbol('s')],
  ])('refuses %s with SHOAL_ERR_SESSION_VALUE', (_what, value) => {
    let err: unknown;
    try { setAttr('bad', value, v(1)); } catch (e) { err = e; }
    expect(isShoalError(err) && err.code).toBe('SHOAL_ERR_SESSION_VALUE');
    expect((err as Error).message).toContain("'bad'");
  });

  it('refuses a cyclic value', () => {
    const o: Record<string, unknown> = {};
    o.self = o;
    expect(() => setAttr('c', o, v(1))).toThrow(/session attribute 'c' cannot be stored/);
  });
});

describe('destroy', () => {
  it('hides every attribute with a version up to the destroy, including ones that arrive later', () => {
    const s = apply(setAttr('a', 1, v(1)), destroySession(v(5)), setAttr('b', 2, v(4)), deleteAttr('c', v(3)));
    expect(view(s)).toEqual({});
    expect(isDestroyed(s)).toBe(true);
    expect(Object.keys(s.attrs)).toEqual([]); // hidden entries are dropped, not kept
  });

  it('a set newer than the destroy revives that attribute only', () => {
    const s = apply(setAttr('user', 'ann', v(1)), setAttr('cart', [1], v(2)), destroySession(v(5)), setAttr('cart', [2], v(6)));
    expect(view(s)).toEqual({ cart: [2] });
    expect(isDestroyed(s)).toBe(false);
    expect(s.destroyed).toBe(v(5));
  });

  it('the later of two destroys wins', () => {
    const s = apply(destroySession(v(9)), setAttr('k', 1, v(7)), destroySession(v(5)));
    expect(s.destroyed).toBe(v(9));
    expect(view(s)).toEqual({});
  });

  it('a delete after a destroy keeps the session destroyed', () => {
    const s = apply(destroySession(v(5)), deleteAttr('k', v(6)));
    expect(isDestroyed(s)).toBe(true);
  });
});

describe('touch', () => {
  it('slides expiry forward and never back', () => {
    const s = apply(touchSession(1000, 500), touchSession(3000, 500), touchSession(2000, 500));
    expect([s.touchedAt, s.expiresAt]).toEqual([3000, 3500]);
  });
});

describe('merge and join', () => {
  it('merge returns the same state object when nothing changes', () => {
    const s = apply(setAttr('k', 1, v(2)), touchSession(10, 5));
    expect(merge(s, setAttr('k', 0, v(1)))).toBe(s);
    expect(merge(s, s)).toBe(s);
    expect(merge(s, {})).toBe(s);
  });

  it('does not change its inputs', () => {
    const a = apply(setAttr('k', 1, v(1)));
    const before = JSON.stringify(a);
    merge(a, join(deleteAttr('k', v(2)), destroySession(v(3))));
    expect(JSON.stringify(a)).toBe(before);
  });

  it('join of deltas has the same effect as applying them one by one', () => {
    const ds = [setAttr('a', 1, v(1)), deleteAttr('a', v(2)), setAttr('b', 2, v(3)), touchSession(5, 10), destroySession(v(2, 'b'))];
    expect(merge(emptyState(), ds.reduce(join))).toEqual(apply(...ds));
  });
});

describe('sizeOf', () => {
  it('counts UTF-8 keys and the JSON text of live values, not tombstones', () => {
    const s = apply(setAttr('ab', 'é', v(1)), setAttr('n', 12345, v(1)), deleteAttr('gone', v(1)));
    expect(sizeOf(s)).toBe(2 + Buffer.byteLength('"é"') + 1 + 5);
  });

  it('counts values received from the wire the same as local ones', () => {
    const d = setAttr('k', { a: [1, 2, 3], s: 'x'.repeat(100) }, v(1));
    expect(sizeOf(apply(JSON.parse(JSON.stringify(d)) as Delta))).toBe(sizeOf(apply(d)));
  });
});

describe('purgeTombstones', () => {
  const hour = 3_600_000;

  it('keeps tombstones inside the retention period and drops them after', () => {
    const s = apply(setAttr('live', 1, v(0)), deleteAttr('gone', v(hour)));
    expect(purgeTombstones(s, 2 * hour - 1, hour)).toBe(s);
    const p = purgeTombstones(s, 2 * hour + 1, hour);
    expect(Object.keys(p.attrs)).toEqual(['live']);
    expect(view(p)).toEqual(view(s));
  });

  it('while kept, a tombstone stops a late older set; once purged, it no longer can', () => {
    const s = apply(setAttr('k', 'v1', v(1000)), deleteAttr('k', v(2000)));
    const late = setAttr('k', 'v1', v(1000));
    expect(view(merge(purgeTombstones(s, 2000 + hour - 1, hour), late))).toEqual({});
    expect(view(merge(purgeTombstones(s, 2000 + hour + 1, hour), late))).toEqual({ k: 'v1' });
  });

  it('keeps the session tombstone while anything but tombstones is left, then drops it', () => {
    const destroyed = apply(destroySession(v(1000)), deleteAttr('k', v(5000)));
    const mid = purgeTombstones(destroyed, 1000 + hour + 1, hour);
    expect(mid).toBe(destroyed); // the delete is not old enough yet, so the session stays destroyed
    const end = purgeTombstones(destroyed, 5000 + hour + 1, hour);
    expect(end.destroyed).toBeUndefined();
    expect(Object.keys(end.attrs)).toEqual([]);

    const revived = apply(destroySession(v(1000)), setAttr('k', 1, v(2000)));
    const p = purgeTombstones(revived, 1000 + hour + 1, hour);
    expect(p.destroyed).toBeUndefined();
    expect(view(p)).toEqual({ k: 1 });
  });
});
