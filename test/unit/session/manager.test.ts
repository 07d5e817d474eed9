/**
 * SessionManager on a standalone replica: cookies, signing, fixation, the
 * session life cycle and limits. Each test gets its own Replica, so nothing
 * leaks through this process's shared one.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { isShoalError } from '../../../runtime/errors.js';
import { formatHlc } from '../../../runtime/session/hlc.js';
import { sign } from '../../../runtime/session/ids.js';
import { SessionManager, type Session, type SessionOptions } from '../../../runtime/session/manager.js';
import { Replica } from '../../../runtime/session/replica.js';

const SECRET = 'a-secret-a-secret-a-secret-a-secret';
const OTHER = 'other-secret-other-secret-other-secret';

let replica: Replica;
afterEach(() => replica?.close());

const manager = (o: Partial<SessionOptions> = {}): SessionManager => {
  replica = new Replica();
  return new SessionManager({ secret: SECRET, ...o } as SessionOptions, replica);
};
/** The Cookie header a browser would send back for a Set-Cookie line. */
const cookieOf = (line: string | undefined): string => {
  expect(line).toBeDefined();
  return line!.split(';')[0]!;
};
const errorOf = (fn: () => unknown): unknown => { try { fn(); } catch (e) { return e; } return undefined; };

/** A session with data, saved, and the Cookie header that names it. */
async function stored(m: SessionManager, data: Record<string, unknown> = { user: 'ann' }): Promise<{ s: Session; cookie: string }> {
  const s = m.load(undefined);
  for (const [k, v] of Object.entries(data)) s.set(k, v);
  await s.save();
  return { s, cookie: cookieOf(s.setCookie()) };
}

describe('options', () => {
  it.each<[string, Record<string, unknown>, string, RegExp]>([
    ['missing secret', {}, 'SHOAL_ERR_SESSION_SECRET', /secret: no secret given/],
    ['short secret', { secret: 'short' }, 'SHOAL_ERR_SESSION_SECRET', /secret: it has 5 characters/],
    ['a short second secret', { secrets: [SECRET, 'x'] }, 'SHOAL_ERR_SESSION_SECRET', /secret #2/],
    ['both secret and secrets', { secret: SECRET, secrets: [SECRET] }, 'SHOAL_ERR_SESSION_OPTIONS', /option secret: .*one of secret or secrets/],
    ['bad sameSite', { secret: SECRET, cookie: { sameSite: 'Lax' } }, 'SHOAL_ERR_SESSION_OPTIONS', /option cookie\.sameSite: "Lax"/],
    ['sameSite none without Secure', { secret: SECRET, cookie: { sameSite: 'none', secure: false } }, 'SHOAL_ERR_SESSION_OPTIONS', /option cookie\.secure: false/],
    ['bad cookieName', { secret: SECRET, cookieName: 'a b;' }, 'SHOAL_ERR_SESSION_OPTIONS', /option cookieName: "a b;"/],
    ['zero ttlMs', { secret: SECRET, ttlMs: 0 }, 'SHOAL_ERR_SESSION_OPTIONS', /option ttlMs: 0/],
    ['fractional ttlMs', { secret: SECRET, ttlMs: 1.5 }, 'SHOAL_ERR_SESSION_OPTIONS', /option ttlMs: 1\.5/],
    // Max-Age counts whole seconds: 500 ms would be Max-Age=0, a cookie the browser drops at once.
    ['cookie.maxAgeMs under a second', { secret: SECRET, cookie: { maxAgeMs: 500 } }, 'SHOAL_ERR_SESSION_OPTIONS', /option cookie\.maxAgeMs: 500; expected at least 1000/],
  ])('%s throws with its code and names the option', (_what, opts, code, message) => {
    const err = errorOf(() => new SessionManager(opts as SessionOptions, new Replica()));
    expect(isShoalError(err) && err.code).toBe(code);
    expect((err as Error).message).toMatch(message);
  });

  it('accepts sameSite none with secure auto', () => {
    expect(manager({ cookie: { sameSite: 'none' } }).options.cookie).toMatchObject({ sameSite: 'none', secure: 'auto' });
  });
});

describe('cookies', () => {
  it('a request without a cookie gets a fresh session that stores and sends nothing until set()', async () => {
    const m = manager();
    const s = m.load(undefined);
    expect(s.isNew).toBe(true);
    expect(s.all()).toEqual({});
    expect(s.get('x')).toBeUndefined();
    s.delete('x');
    await s.save();
    expect(s.setCookie()).toBeUndefined();
    expect(replica.store.size).toBe(0);
    s.set('x', 1);
    expect([s.isNew, replica.store.size]).toEqual([false, 1]);
  });

  it('set() sends a signed cookie with the default flags; Secure follows the request, or the option', async () => {
    const { s } = await stored(manager());
    expect(s.setCookie()).toBe(`shoal.sid=${sign(s.id, SECRET)}; Path=/; HttpOnly; SameSite=Lax`);
    const overTls = manager().load(undefined, { secure: true });
    overTls.set('x', 1);
    expect(overTls.setCookie()).toBe(`shoal.sid=${sign(overTls.id, SECRET)}; Path=/; HttpOnly; Secure; SameSite=Lax`);
    const forced = manager({ cookie: { secure: true } }).load(undefined, { secure: false });
    forced.set('x', 1);
    expect(forced.setCookie()).toContain('; Secure;');
    const never = manager({ cookie: { secure: false } }).load(undefined, { secure: true });
    never.set('x', 1);
    expect(never.setCookie()).not.toContain('Secure');
  });

  it('the cookie brings back the same session and its data, without a new Set-Cookie', async () => {
    const m = manager();
    const { s, cookie } = await stored(m, { user: 'ann', cart: [1, 2] });
    const again = m.load(`theme=dark; ${cookie}`);
    expect([again.id, again.isNew]).toEqual([s.id, false]);
    expect(again.all()).toEqual({ user: 'ann', cart: [1, 2] });
    expect(again.has('user')).toBe(true);
    expect(again.setCookie()).toBeUndefined();
  });

  it('forged, malformed, unknown or foreign cookies give a fresh session with an id of our own', async () => {
    const m = manager();
    const { s, cookie } = await stored(m);
    const [id, mac] = cookie.slice('shoal.sid='.length).split('.') as [string, string];
    const unknownId = 'A'.repeat(24);
    const cases = [
      `shoal.sid=${id}.${mac.slice(0, -1)}${mac.endsWith('A') ? 'B' : 'A'}`, // forged mac
      `shoal.sid=${id}`, // no mac
      'shoal.sid=%%%garbage', // malformed
      `shoal.sid=${sign(unknownId, SECRET)}`, // signed by us, but no such session
      `shoal.sid=${sign(s.id, OTHER)}`, // another app's secret
    ];
    for (const header of cases) {
      const fresh = m.load(header);
      expect(fresh.isNew, header).toBe(true);
      expect([s.id, unknownId]).not.toContain(fresh.id);
      fresh.set('k', 1);
      expect(fresh.setCookie()).not.toContain(unknownId);
    }
    expect(replica.get(unknownId)).toBeUndefined();
  });

  it('rotation: old cookies still load with secrets [new, old], and new cookies are signed with the new secret', async () => {
    const oldManager = manager({ secret: OTHER });
    const { s, cookie } = await stored(oldManager);
    const rotated = new SessionManager({ secrets: [SECRET, OTHER] }, replica);
    const loaded = rotated.load(cookie);
    expect([loaded.id, loaded.get('user')]).toEqual([s.id, 'ann']);
    const fresh = rotated.load(undefined);
    fresh.set('x', 1);
    expect(cookieOf(fresh.setCookie())).toBe(`shoal.sid=${sign(fresh.id, SECRET)}`);
  });

  it('hosts sharing Redis: a write sends the session cookie first (again, as the client sent it), then the version; a read sends nothing', async () => {
    replica = new Replica({ shared: true });
    const m = new SessionManager({ secret: SECRET }, replica);
    const first = m.load(undefined);
    first.set('n', 1);
    await first.save();
    const made = first.cookies();
    expect(made.map((l) => l.split('=')[0])).toEqual(['shoal.sid', 'shoal.sid.v']);
    const cookie = cookieOf(made[0]);
    const read = m.load(cookie);
    expect(read.cookies()).toEqual([]);
    const write = m.load(cookie);
    write.set('n', 2);
    await write.save();
    const lines = write.cookies();
    expect(lines.map(cookieOf)[0]).toBe(cookie);
    expect(lines[1]).toMatch(/^shoal\.sid\.v=[\w.-]+; Path=\/; HttpOnly; SameSite=Lax$/);
    // Sent again as the client sent it: no new signature per response.
    const rotated = new SessionManager({ secrets: [OTHER, SECRET] }, replica);
    const w2 = rotated.load(cookie);
    w2.set('n', 3);
    await w2.save();
    expect(cookieOf(w2.cookies()[0])).toBe(cookie);
  });

  it('of several cookies with our name, the valid one is used', async () => {
    const m = manager();
    const { s, cookie } = await stored(m);
    const loaded = m.load(`shoal.sid=junk; ${cookie.replace('shoal.sid=', 'shoal.sid2=')}; shoal.sid=${sign(s.id, OTHER)}; ${cookie}`);
    expect([loaded.id, loaded.isNew]).toEqual([s.id, false]);
  });

  it('cookie.maxAgeMs gives Max-Age and a matching Expires', () => {
    const s = manager({ cookie: { maxAgeMs: 3_600_000 } }).load(undefined);
    s.set('x', 1);
    const line = s.setCookie()!;
    expect(line).toMatch(/; Max-Age=3600; Expires=[^;]+ GMT;/);
    const expires = Date.parse(/Expires=([^;]+)/.exec(line)![1]!);
    expect(Math.abs(expires - (Date.now() + 3_600_000))).toBeLessThan(2_000);
  });

  it('ids have at least 128 bits and never repeat', () => {
    const m = manager();
    const ids = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const s = m.load(undefined);
      s.set('i', i);
      expect(s.id).toMatch(/^[A-Za-z0-9_-]{22,}$/);
      ids.add(s.id);
    }
    expect(ids.size).toBe(1000);
  });
});

describe('life cycle', () => {
  it('delete removes one attribute', async () => {
    const m = manager();
    const { cookie } = await stored(m, { a: 1, b: 2 });
    const s = m.load(cookie);
    s.delete('a');
    await s.save();
    expect(m.load(cookie).all()).toEqual({ b: 2 });
  });

  it('regenerate moves the data to a new id; the old one no longer loads', async () => {
    const m = manager();
    const { s: first, cookie } = await stored(m, { user: 'ann', n: 3 });
    const s = m.load(cookie);
    await s.regenerate();
    expect(s.id).not.toBe(first.id);
    expect(s.all()).toEqual({ user: 'ann', n: 3 });
    const line = s.setCookie()!;
    expect(line).toContain(sign(s.id, SECRET));
    const old = m.load(cookie);
    expect([old.isNew, old.id === first.id]).toEqual([true, false]);
    expect(m.load(cookieOf(line)).all()).toEqual({ user: 'ann', n: 3 });
  });

  it('destroy ends the session and clears the cookie; a later set starts another session', async () => {
    const m = manager();
    const { s: first, cookie } = await stored(m);
    const s = m.load(cookie);
    await s.destroy();
    expect(s.all()).toEqual({});
    expect(s.setCookie()).toMatch(/^shoal\.sid=; Path=\/;.*Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT$/);
    expect(m.load(cookie).isNew).toBe(true);
    s.set('again', true);
    expect(s.id).not.toBe(first.id);
    expect(cookieOf(s.setCookie())).toBe(`shoal.sid=${sign(s.id, SECRET)}`);
    // Destroying a session the client never had a cookie for sends nothing.
    const fresh = m.load(undefined);
    await fresh.destroy();
    expect(fresh.setCookie()).toBeUndefined();
  });

  it.each<[string, unknown]>([['a bigint', 10n], ['a function', () => 1], ['undefined', undefined]])(
    '%s is refused with SHOAL_ERR_SESSION_VALUE and nothing is stored',
    async (_what, value) => {
      const m = manager();
      const s = m.load(undefined);
      const err = errorOf(() => s.set('bad', value));
      expect(isShoalError(err) && err.code).toBe('SHOAL_ERR_SESSION_VALUE');
      expect([replica.store.size, s.isNew, s.setCookie()]).toEqual([0, true, undefined]);
      const { cookie } = await stored(m, { ok: 1 });
      const loaded = m.load(cookie);
      expect(errorOf(() => loaded.set('bad', value))).toBeDefined();
      expect(m.load(cookie).all()).toEqual({ ok: 1 });
    },
  );

  it('a write past maxSessionBytes throws SHOAL_ERR_SESSION_TOO_LARGE and leaves the session as it was', async () => {
    const m = manager({ maxSessionBytes: 100 });
    const { cookie } = await stored(m, { a: 'x'.repeat(40) });
    const s = m.load(cookie);
    const before = s.all();
    const err = errorOf(() => s.set('b', 'y'.repeat(80)));
    expect(isShoalError(err) && err.code).toBe('SHOAL_ERR_SESSION_TOO_LARGE');
    expect((err as Error).message).toContain('limit of 100 bytes');
    expect(s.all()).toEqual(before);
    expect(m.load(cookie).all()).toEqual({ a: 'x'.repeat(40) });
    // Too large from the very first write: nothing stored, no cookie.
    const fresh = m.load(undefined);
    expect(errorOf(() => fresh.set('big', 'z'.repeat(200)))).toBeDefined();
    expect([fresh.isNew, fresh.setCookie(), replica.get(fresh.id)]).toEqual([true, undefined, undefined]);
  });
});

describe('touch', () => {
  /** A session stored with an old touchedAt, as if last used `ageMs` ago, and its cookie. */
  function aged(m: SessionManager, ageMs: number): { id: string; cookie: string; expiresAt: number } {
    const id = 'B'.repeat(24);
    const now = Date.now();
    const expiresAt = now - ageMs + m.options.ttlMs;
    replica.store.applyDelta(id, {
      attrs: { k: { version: formatHlc({ wall: now - ageMs, logical: 0, node: 't' }), value: 1 } },
      touchedAt: now - ageMs,
      expiresAt,
    });
    return { id, cookie: `shoal.sid=${sign(id, SECRET)}`, expiresAt };
  }

  it('a session loaded touchAfterMs after its last touch slides its expiry', () => {
    const m = manager({ ttlMs: 60_000, touchAfterMs: 1_000 });
    const { id, cookie, expiresAt } = aged(m, 5_000);
    const before = Date.now();
    expect(m.load(cookie).id).toBe(id);
    const s = replica.get(id)!;
    expect(s.expiresAt).toBeGreaterThan(expiresAt);
    expect(s.expiresAt).toBeGreaterThanOrEqual(before + 60_000);
    expect(s.touchedAt).toBeGreaterThanOrEqual(before);
  });

  it('a session used recently is not touched again', () => {
    const m = manager({ ttlMs: 60_000, touchAfterMs: 10_000 });
    const { cookie, id, expiresAt } = aged(m, 2_000);
    m.load(cookie);
    expect(replica.get(id)!.expiresAt).toBe(expiresAt);
  });

  it('with a persistent cookie, a touch renews the cookie too', () => {
    const m = manager({ ttlMs: 60_000, touchAfterMs: 1_000, cookie: { maxAgeMs: 60_000 } });
    const { cookie } = aged(m, 5_000);
    expect(m.load(cookie).setCookie()).toMatch(/Max-Age=60;/);
  });
});
