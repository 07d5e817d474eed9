import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isShoalError } from '../../../runtime/errors.js';
import {
  MIN_SECRET_LENGTH, isSessionId, newSessionId, redactId, sign, unsign, validateSecrets,
} from '../../../runtime/session/ids.js';

const OLD = 'old-secret-old-secret-old-secret-0';
const NEW = 'new-secret-new-secret-new-secret-1';

describe('session ids', () => {
  it('are at least 128 bits, base64url, cookie-safe', () => {
    const id = newSessionId();
    expect(id).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(Buffer.from(id, 'base64url').length * 8).toBeGreaterThanOrEqual(128);
    expect(Buffer.from(id, 'base64url').toString('base64url')).toBe(id);
    expect(isSessionId(id)).toBe(true);
  });

  it('look random: distinct, and every bit is set about half of the time', () => {
    const ids = Array.from({ length: 4000 }, newSessionId);
    expect(new Set(ids).size).toBe(ids.length);
    const bits = Buffer.from(ids[0]!, 'base64url').length * 8;
    const ones = new Array<number>(bits).fill(0);
    for (const id of ids) {
      const buf = Buffer.from(id, 'base64url');
      for (let b = 0; b < bits; b++) if ((buf[b >> 3]! >> (7 - (b & 7))) & 1) ones[b]!++;
    }
    // Binomial(4000, 0.5): sd ≈ 32, so ±300 is ~9 sd: no flakes, yet a constant or biased bit fails.
    for (const n of ones) expect(Math.abs(n - 2000)).toBeLessThan(300);
  });
});

describe('sign / unsign', () => {
  it('round-trips: the cookie value is id.mac, HMAC-SHA256 in base64url', () => {
    const id = newSessionId();
    const value = sign(id, NEW);
    expect(value).toBe(`${id}.${createHmac('sha256', NEW).update(id).digest('base64url')}`);
    expect(unsign(value, [NEW])).toBe(id);
  });

  it('accepts every rotation secret; the first one signs', () => {
    const id = newSessionId();
    expect(unsign(sign(id, OLD), [NEW, OLD])).toBe(id);
    expect(unsign(sign(id, NEW), [NEW, OLD])).toBe(id);
    expect(unsign(sign(id, OLD), [NEW])).toBeUndefined(); // once the old secret is dropped
  });

  it.each([
    ['missing', undefined], ['null', null], ['empty', ''], ['no dot', 'abc'], ['only a dot', '.'],
    ['empty id', `.${'A'.repeat(43)}`], ['short id', `abc.${'A'.repeat(43)}`],
    ['bad id characters', `${'a'.repeat(23)}+.${'A'.repeat(43)}`],
    ['short mac', `${'a'.repeat(24)}.${'A'.repeat(42)}`], ['long mac', `${'a'.repeat(24)}.${'A'.repeat(44)}`],
    ['non-ASCII', `${'a'.repeat(24)}.${'é'.repeat(43)}`],
  ])('returns undefined for a %s value', (_what, value) => {
    expect(unsign(value, [NEW])).toBeUndefined();
  });

  it('returns undefined for forgeries', () => {
    const id = newSessionId();
    const good = sign(id, NEW);
    const [, mac] = good.split('.') as [string, string];
    const other = newSessionId();
    expect(unsign(`${other}.${mac}`, [NEW])).toBeUndefined(); // someone else's id with this mac
    expect(unsign(sign(id, 'z'.repeat(40)), [NEW])).toBeUndefined(); // signed with another secret
    const flipped = mac[0] === 'A' ? `B${mac.slice(1)}` : `A${mac.slice(1)}`;
    expect(unsign(`${id}.${flipped}`, [NEW])).toBeUndefined();
    expect(unsign(`${id}.${mac}.x`, [NEW])).toBeUndefined();
    expect(unsign(`${id}x.${mac}`, [NEW])).toBeUndefined();
    // The last base64url character carries 2 unused bits: other spellings of the same bytes are refused.
    const last = mac.at(-1)!;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const alias = alphabet[alphabet.indexOf(last) ^ 1]!;
    expect(Buffer.from(`${mac.slice(0, -1)}${alias}`, 'base64url')).toEqual(Buffer.from(mac, 'base64url'));
    expect(unsign(`${id}.${mac.slice(0, -1)}${alias}`, [NEW])).toBeUndefined();
  });
});

describe('secrets', () => {
  it.each([
    ['an empty list', [], /no secret given/],
    ['a short secret', ['short'], /5 characters, fewer than 32/],
    ['a short old secret', [NEW, 'x'.repeat(31)], /31 characters, fewer than 32 \(secret #2\)/],
    ['a non-string', [42], /expected a string, got number/],
  ])('refuses %s with SHOAL_ERR_SESSION_SECRET', (_what, secrets, message) => {
    let err: unknown;
    try { validateSecrets(secrets as unknown[]); } catch (e) { err = e; }
    expect(isShoalError(err) && err.code).toBe('SHOAL_ERR_SESSION_SECRET');
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).toMatch(/at least 32 characters/);
  });

  it('are checked by sign and unsign too', () => {
    expect(() => sign(newSessionId(), 'x'.repeat(MIN_SECRET_LENGTH - 1))).toThrow(/invalid session secret/);
    expect(() => unsign('whatever', [])).toThrow(/invalid session secret/);
    expect(() => sign('not an id!', NEW)).toThrow(RangeError);
  });
});

describe('redactId', () => {
  it('keeps a short prefix for correlating logs, never the whole id', () => {
    const id = newSessionId();
    const r = redactId(id);
    expect(r).toBe(`${id.slice(0, 6)}…`);
    expect(r).not.toContain(id);
    expect(redactId('abc')).toBe('…');
  });
});
