/**
 * Who may use the admin server when it has a token. Scripts send
 * `Authorization: Bearer <token>`; a browser cannot on a plain navigation,
 * so the dashboard has a sign-in: the token, given once (a form posted to
 * /signin, or a link to /?token=...), is exchanged for an HttpOnly,
 * SameSite=Strict cookie, and the browser is sent back to `/` (the token
 * leaves the address bar). The cookie holds a value derived from the token,
 * not the token: changing the token signs every browser out.
 *
 * Every comparison hashes both sides first, so timingSafeEqual sees equal
 * lengths and the token's length is not revealed.
 */
import crypto from 'node:crypto';
import type http from 'node:http';

export const COOKIE_NAME = 'shoal_admin';
/** How long a browser stays signed in, seconds. */
export const COOKIE_MAX_AGE_S = 12 * 3600;

const digest = (s: string): Buffer => crypto.createHash('sha256').update(s).digest();
const same = (a: string, expected: Buffer): boolean => crypto.timingSafeEqual(digest(a), expected);

/** The value of cookie `name` in a Cookie header, if there. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export class AdminAuth {
  readonly #bearer: Buffer | undefined;
  readonly #token: Buffer | undefined;
  readonly #cookie: string | undefined;
  readonly #cookieDigest: Buffer | undefined;

  constructor(token: string | undefined) {
    if (token === undefined) return;
    this.#bearer = digest(`Bearer ${token}`);
    this.#token = digest(token);
    this.#cookie = crypto.createHmac('sha256', token).update('shoal dashboard sign-in').digest('hex');
    this.#cookieDigest = digest(this.#cookie);
  }

  /** Whether a token is needed (and actions are allowed). */
  get enabled(): boolean { return this.#bearer !== undefined; }

  /** A bearer header or the sign-in cookie with the right value; always true without a token. */
  allows(req: http.IncomingMessage): boolean {
    if (!this.#bearer || !this.#cookieDigest) return true;
    if (same(req.headers.authorization ?? '', this.#bearer)) return true;
    const c = cookieValue(req.headers.cookie, COOKIE_NAME);
    return c !== undefined && same(c, this.#cookieDigest);
  }

  /** Whether `given` is the token. */
  isToken(given: string): boolean { return this.#token !== undefined && same(given, this.#token); }

  /** The Set-Cookie header that signs a browser in. */
  setCookie(): string {
    return `${COOKIE_NAME}=${this.#cookie ?? ''}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${COOKIE_MAX_AGE_S}`;
  }
}

/**
 * Whether a request comes from a page of this server (CSRF): a browser
 * sends Origin on every POST and Sec-Fetch-Site on every request; either,
 * when present, must name this host. A script without them (curl) passes.
 */
export function sameOrigin(headers: http.IncomingHttpHeaders): boolean {
  const site = headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return false;
  const origin = headers.origin;
  return origin === undefined || origin === `http://${headers.host ?? ''}`;
}
