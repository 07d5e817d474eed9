// The admin server's sign-in pieces: the cookie, the token check, the same-origin rule for actions.
import type http from 'node:http';
import { describe, expect, it } from 'vitest';
import { AdminAuth, COOKIE_NAME, cookieValue, sameOrigin } from '../../runtime/admin/auth.js';

const TOKEN = 'unit-token-0123456789abcdef';
const asked = (headers: http.IncomingHttpHeaders): http.IncomingMessage => ({ headers }) as http.IncomingMessage;

describe('admin auth', () => {
  it('reads one cookie out of a Cookie header', () => {
    expect(cookieValue('a=1; shoal_admin=abc; b=2', COOKIE_NAME)).toBe('abc');
    expect(cookieValue('xshoal_admin=abc', COOKIE_NAME)).toBeUndefined();
    expect(cookieValue(undefined, COOKIE_NAME)).toBeUndefined();
  });

  it('allows the bearer or the cookie it set, nothing else; everything without a token', () => {
    const auth = new AdminAuth(TOKEN);
    const cookie = auth.setCookie();
    expect(cookie).toMatch(/; HttpOnly; SameSite=Strict; Path=\/; Max-Age=\d+$/);
    expect(cookie).not.toContain(TOKEN);
    const value = cookie.slice(0, cookie.indexOf(';'));
    expect(auth.allows(asked({ authorization: `Bearer ${TOKEN}` }))).toBe(true);
    expect(auth.allows(asked({ cookie: value }))).toBe(true);
    expect(auth.allows(asked({ cookie: `${value}0` }))).toBe(false);
    expect(auth.allows(asked({ authorization: TOKEN }))).toBe(false);
    expect(auth.allows(asked({}))).toBe(false);
    expect([auth.isToken(TOKEN), auth.isToken(`${TOKEN}x`), auth.isToken('')]).toEqual([true, false, false]);
    // Another token, another cookie: changing the token signs every browser out.
    expect(new AdminAuth(`${TOKEN}2`).allows(asked({ cookie: value }))).toBe(false);
    expect(new AdminAuth(undefined).allows(asked({}))).toBe(true);
    expect(new AdminAuth(undefined).enabled).toBe(false);
  });

  it('same origin: this host as Origin, a same-origin fetch, or a client that sends neither', () => {
    expect(sameOrigin({ host: '127.0.0.1:9090', origin: 'http://127.0.0.1:9090', 'sec-fetch-site': 'same-origin' })).toBe(true);
    expect(sameOrigin({ host: '127.0.0.1:9090' })).toBe(true);
    expect(sameOrigin({ host: '127.0.0.1:9090', origin: 'http://evil.example' })).toBe(false);
    expect(sameOrigin({ host: '127.0.0.1:9090', origin: 'http://127.0.0.1:9091' })).toBe(false);
    expect(sameOrigin({ host: '127.0.0.1:9090', 'sec-fetch-site': 'cross-site' })).toBe(false);
    expect(sameOrigin({ host: '127.0.0.1:9090', 'sec-fetch-site': 'same-site' })).toBe(false);
  });
});
