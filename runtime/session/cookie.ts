/**
 * The little of RFC 6265 a session cookie needs: find our cookie's values in
 * a Cookie header, and write a Set-Cookie line. Our values are base64url and
 * '.', so they need no encoding; a value that is anything else is not ours.
 */

export type SameSite = 'lax' | 'strict' | 'none';

export interface CookieAttributes {
  readonly path: string;
  readonly domain?: string | undefined;
  readonly httpOnly: boolean;
  readonly sameSite: SameSite;
  readonly secure: boolean;
  /** Seconds; absent for a cookie that lives as long as the browser session. */
  readonly maxAge?: number | undefined;
}

/** Cookie names are RFC 7230 tokens. */
export const isCookieName = (name: string): boolean => /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name);

/** Every value the header carries for `name` (a browser may send several, from different paths or domains). */
export function readCookie(header: string | undefined, name: string): string[] {
  if (!header) return [];
  const out: string[] = [];
  let at = 0;
  while (at < header.length) {
    const end = header.indexOf(';', at);
    const stop = end < 0 ? header.length : end;
    const eq = header.indexOf('=', at);
    if (eq > at && eq < stop && header.slice(at, eq).trim() === name) {
      let v = header.slice(eq + 1, stop).trim();
      if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1);
      out.push(v);
    }
    at = stop + 1;
  }
  return out;
}

const SAME_SITE: Record<SameSite, string> = { lax: 'Lax', strict: 'Strict', none: 'None' };

export function serializeCookie(name: string, value: string, a: CookieAttributes): string {
  let s = `${name}=${value}; Path=${a.path}`;
  if (a.domain) s += `; Domain=${a.domain}`;
  if (a.maxAge !== undefined) {
    s += `; Max-Age=${a.maxAge}`;
    s += `; Expires=${new Date(Date.now() + a.maxAge * 1000).toUTCString()}`;
  }
  if (a.httpOnly) s += '; HttpOnly';
  if (a.secure) s += '; Secure';
  s += `; SameSite=${SAME_SITE[a.sameSite]}`;
  return s;
}

/** A Set-Cookie line that makes the browser drop the cookie. */
export const clearingCookie = (name: string, a: CookieAttributes): string =>
  `${serializeCookie(name, '', { ...a, maxAge: undefined })}; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT`;
