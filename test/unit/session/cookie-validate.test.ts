/**
 * The small pure pieces: Cookie header parsing, Set-Cookie lines, the shape
 * checks applied to session data crossing a process boundary, and latency
 * quantiles. Tables, so that a changed rule shows up as one failing row.
 */
import { describe, expect, it } from 'vitest';
import { clearingCookie, isCookieName, readCookie, serializeCookie, type CookieAttributes } from '../../../runtime/session/cookie.js';
import { formatHlc } from '../../../runtime/session/hlc.js';
import { Samples } from '../../../runtime/session/samples.js';
import { checkChanges, isDelta, isSessionKey, isState, maxVersionOf } from '../../../runtime/session/validate.js';

const v = (ms: number, node = 'w1'): string => formatHlc({ wall: ms, logical: 0, node });
const V = v(1_700_000_000_000);

describe('readCookie', () => {
  it.each<[string, string | undefined, string[]]>([
    ['no header', undefined, []],
    ['an empty header', '', []],
    ['only our cookie', 'shoal.sid=abc', ['abc']],
    ['among others', 'a=1; shoal.sid=abc; b=2', ['abc']],
    ['without spaces after ;', 'a=1;shoal.sid=abc;b=2', ['abc']],
    ['with spaces around name and value', '  shoal.sid  =  abc  ; a=1', ['abc']],
    ['a quoted value', 'shoal.sid="abc.def"', ['abc.def']],
    ['a lone quote is kept as is', 'shoal.sid="', ['"']],
    ['names that start or end like ours', 'xshoal.sid=1; shoal.sidx=2; shoal.si=3; shoal.sid2=4', []],
    ['several with our name, in order', 'shoal.sid=one; x=y; shoal.sid=two', ['one', 'two']],
    ['a value holding =', 'shoal.sid=a=b', ['a=b']],
    ['after a segment without =', 'flag; shoal.sid=v', ['v']],
    ['empty segments', ';; shoal.sid=v ;;', ['v']],
    ['an empty value', 'shoal.sid=; a=1', ['']],
    ['a name-less pair', '=shoal.sid; a=1', []],
  ])('%s', (_what, header, expected) => {
    expect(readCookie(header, 'shoal.sid')).toEqual(expected);
  });

  it('cookie names are RFC 7230 tokens', () => {
    for (const ok of ['shoal.sid', 'connect.sid', 'a', "!#$%&'*+-.^_`|~09AZaz"]) expect(isCookieName(ok), ok).toBe(true);
    for (const bad of ['', 'a b', 'a;b', 'a=b', 'a,b', 'é', 'a"b', 'a\tb']) expect(isCookieName(bad), bad).toBe(false);
  });
});

describe('Set-Cookie lines', () => {
  const base: CookieAttributes = { path: '/', httpOnly: true, sameSite: 'lax', secure: false };

  it.each<[string, Partial<CookieAttributes>, string]>([
    ['defaults', {}, 'n=v; Path=/; HttpOnly; SameSite=Lax'],
    ['secure, strict', { secure: true, sameSite: 'strict' }, 'n=v; Path=/; HttpOnly; Secure; SameSite=Strict'],
    ['sameSite none, not httpOnly', { sameSite: 'none', secure: true, httpOnly: false }, 'n=v; Path=/; Secure; SameSite=None'],
    ['path and domain', { path: '/app', domain: 'example.com' }, 'n=v; Path=/app; Domain=example.com; HttpOnly; SameSite=Lax'],
  ])('%s', (_what, attrs, line) => {
    expect(serializeCookie('n', 'v', { ...base, ...attrs })).toBe(line);
  });

  it('maxAge gives Max-Age in seconds and an Expires that far ahead', () => {
    const line = serializeCookie('n', 'v', { ...base, maxAge: 90 });
    expect(line).toMatch(/^n=v; Path=\/; Max-Age=90; Expires=\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT; HttpOnly; SameSite=Lax$/);
    const expires = Date.parse(/Expires=([^;]+)/.exec(line)![1]!);
    expect(Math.abs(expires - (Date.now() + 90_000))).toBeLessThan(2_000);
  });

  it('a clearing cookie has an empty value, keeps path and domain, and expires now whatever maxAge was', () => {
    const line = clearingCookie('n', { ...base, domain: 'example.com', secure: true, maxAge: 3600 });
    expect(line).toBe('n=; Path=/; Domain=example.com; HttpOnly; Secure; SameSite=Lax; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT');
  });
});

describe('validate', () => {
  it.each<[string, unknown, boolean]>([
    ['our base64url id', 'AbCdEfGhIjKlMnOpQrStUvWx', true],
    ["express-session's uid-safe id", 'Zx1_-abcdefghijklmnopqrstuvwxyz01', true],
    ['one printable character', '!', true],
    ['256 characters', 'a'.repeat(256), true],
    ['empty', '', false],
    ['257 characters', 'a'.repeat(257), false],
    ['a space', 'a b', false],
    ['a tab', 'a\tb', false],
    ['non-ASCII', 'sessión', false],
    ['a number', 12345, false],
    ['null', null, false],
  ])('isSessionKey: %s', (_what, id, ok) => {
    expect(isSessionKey(id)).toBe(ok);
  });

  it.each<[string, unknown, boolean]>([
    ['empty', {}, true],
    ['a value', { attrs: { k: { version: V, value: 1 } } }, true],
    ['a null value', { attrs: { k: { version: V, value: null } } }, true],
    ['a tombstone', { attrs: { k: { version: V, tombstone: true } } }, true],
    ['destroy and times', { destroyed: V, touchedAt: 0, expiresAt: 5 }, true],
    ['a __proto__ key from JSON', JSON.parse(`{"attrs":{"__proto__":{"version":"${V}","value":1}}}`), true],
    ['null', null, false],
    ['an array', [], false],
    ['attrs an array', { attrs: [] }, false],
    ['attrs null', { attrs: null }, false],
    ['an attribute that is not an object', { attrs: { k: 1 } }, false],
    ['no version', { attrs: { k: { value: 1 } } }, false],
    ['a bad version', { attrs: { k: { version: 'v1', value: 1 } } }, false],
    ['a version with a space in the node', { attrs: { k: { version: `${V.slice(0, 15)}w 1`, value: 1 } } }, false],
    ['neither value nor tombstone', { attrs: { k: { version: V } } }, false],
    ['value and tombstone', { attrs: { k: { version: V, value: 1, tombstone: true } } }, false],
    ['tombstone false', { attrs: { k: { version: V, tombstone: false } } }, false],
    ['a bad destroyed', { destroyed: 5 }, false],
    ['negative touchedAt', { touchedAt: -1 }, false],
    ['NaN touchedAt', { touchedAt: NaN }, false],
    ['infinite expiresAt', { expiresAt: Infinity }, false],
    ['expiresAt as a string', { expiresAt: '5' }, false],
  ])('isDelta: %s', (_what, d, ok) => {
    expect(isDelta(d)).toBe(ok);
  });

  it.each<[string, unknown, boolean]>([
    ['a full state', { attrs: {}, touchedAt: 0, expiresAt: 0 }, true],
    ['a destroyed state', { attrs: {}, destroyed: V, touchedAt: 1, expiresAt: 2 }, true],
    ['no expiresAt', { attrs: {}, touchedAt: 0 }, false],
    ['no attrs', { touchedAt: 0, expiresAt: 0 }, false],
    ['a bad attribute', { attrs: { k: {} }, touchedAt: 0, expiresAt: 0 }, false],
  ])('isState: %s', (_what, s, ok) => {
    expect(isState(s)).toBe(ok);
  });

  it.each<[string, unknown, string | undefined]>([
    ['an empty list', [], undefined],
    ['good pairs', [['AbCdEfGhIjKlMnOpQrStUvWx', {}], ['x', { destroyed: V }]], undefined],
    ['not a list', { a: {} }, 'changes is not a list'],
    ['a pair of one', [['x']], 'a change is not an [id, delta] pair'],
    ['a triple', [['x', {}, 1]], 'a change is not an [id, delta] pair'],
    ['a change that is an object', [{ 0: 'x', 1: {} }], 'a change is not an [id, delta] pair'],
    ['an id with a space', [['a b', {}]], 'a session id is not 1-256 printable ASCII characters'],
    ['a numeric id', [[5, {}]], 'a session id is not 1-256 printable ASCII characters'],
    ['a null delta', [['x', null]], 'a delta is malformed'],
    ['a bad pair after good ones', [['x', {}], ['y', { attrs: { k: { version: 'bad', value: 1 } } }]], 'a delta is malformed'],
  ])('checkChanges: %s', (_what, changes, problem) => {
    expect(checkChanges(changes)).toBe(problem);
  });

  it.each<[string, object, string | undefined]>([
    ['nothing', {}, undefined],
    ['only times', { touchedAt: 5 }, undefined],
    ['an attribute beats an older destroy', { destroyed: v(2), attrs: { a: { version: v(1), value: 1 }, b: { version: v(3), tombstone: true } } }, v(3)],
    ['a destroy beats older attributes', { destroyed: v(3), attrs: { a: { version: v(1), value: 1 } } }, v(3)],
    ['node id breaks a tie', { attrs: { a: { version: v(1, 'a'), value: 1 }, b: { version: v(1, 'b'), value: 1 } } }, v(1, 'b')],
  ])('maxVersionOf: %s', (_what, d, max) => {
    expect(maxVersionOf(d)).toBe(max);
  });
});

describe('Samples', () => {
  const of = (xs: number[], size?: number): Samples => {
    const s = new Samples(size);
    for (const x of xs) s.record(x);
    return s;
  };
  const hundred = Array.from({ length: 100 }, (_, i) => 100 - i); // 100..1, unsorted on purpose

  it.each<[string, Samples, number, number | null]>([
    ['none', of([]), 0.5, null],
    ['one sample, any q', of([7]), 0.99, 7],
    ['p0 is the minimum', of(hundred), 0, 1],
    ['p50 of 1..100 (nearest rank)', of(hundred), 0.5, 50],
    ['p99 of 1..100', of(hundred), 0.99, 99],
    ['p100 is the maximum', of(hundred), 1, 100],
    ['numeric, not lexicographic, order', of([9, 10, 100]), 0.5, 10],
    ['negatives count as 0', of([-5, 3]), 0, 0],
    ['rounded to microseconds', of([1.23456]), 1, 1.235],
    ['a full ring keeps the last samples', of([100, 200, 1, 2, 3, 4], 4), 1, 4],
    ['a full ring forgets the oldest', of([100, 200, 1, 2, 3, 4], 4), 0, 1],
  ])('%s', (_what, s, q, expected) => {
    expect(s.quantile(q)).toBe(expected);
  });

  it('counts up to its size', () => {
    expect([of([]).count, of([1, 2, 3]).count, of([1, 2, 3, 4, 5, 6], 4).count]).toEqual([0, 3, 4]);
  });
});
