/**
 * Options of a session manager (the plain API and both adapters), validated
 * once and frozen. Every mistake names the option and what it should be.
 */
import { ShoalError } from '../errors.js';
import { isCookieName, type SameSite } from './cookie.js';
import { validateSecrets } from './ids.js';
import { DEFAULT_MAX_SESSION_BYTES, DEFAULT_SESSION_TTL_MS } from './store-options.js';

export const DEFAULT_COOKIE_NAME = 'shoal.sid';
/** A session read this long after its last touch slides its expiry (and replicates the touch): a read-mostly session costs one small message a minute, not one per request. */
export const MAX_TOUCH_AFTER_MS = 60_000;

/** min(MAX_TOUCH_AFTER_MS, ttlMs / 10), at least 1 ms. */
export const defaultTouchAfterMs = (ttlMs: number): number => Math.max(1, Math.min(MAX_TOUCH_AFTER_MS, Math.floor(ttlMs / 10)));

export interface CookieOptions {
  /** Default '/'. */
  readonly path?: string;
  readonly domain?: string;
  /** Default true: scripts in the page cannot read the cookie. */
  readonly httpOnly?: boolean;
  /** Default 'lax'. */
  readonly sameSite?: SameSite;
  /** 'auto' (default): Secure when the request came over TLS (or https through a trusted proxy, as the framework sees it). */
  readonly secure?: boolean | 'auto';
  /** A persistent cookie of this lifetime, renewed as the session slides; by default the cookie lasts the browser session. */
  readonly maxAgeMs?: number;
}

export interface SessionOptions {
  /** Signs the cookie: a random string of at least 32 characters. */
  readonly secret?: string;
  /** Secrets for rotation: the first signs, all verify. Use instead of `secret`. */
  readonly secrets?: readonly string[];
  /** Default 'shoal.sid'. */
  readonly cookieName?: string;
  readonly cookie?: CookieOptions;
  /** Idle lifetime: a session unused this long expires. Default 30 minutes. */
  readonly ttlMs?: number;
  /** Largest session (keys + JSON values). Default 64 KiB. */
  readonly maxSessionBytes?: number;
  /** See MAX_TOUCH_AFTER_MS; default min(60 s, ttlMs / 10). */
  readonly touchAfterMs?: number;
}

export interface ResolvedSessionOptions {
  readonly secrets: readonly string[];
  readonly cookieName: string;
  readonly cookie: Required<Omit<CookieOptions, 'domain' | 'maxAgeMs'>> & { readonly domain?: string; readonly maxAgeMs?: number };
  readonly ttlMs: number;
  readonly maxSessionBytes: number;
  readonly touchAfterMs: number;
}

const bad = (what: string, value: unknown, expected: string): ShoalError =>
  new ShoalError('SHOAL_ERR_SESSION_OPTIONS', what, JSON.stringify(value) ?? String(value), expected);

/** Shared with ShoalStore (express.ts), whose options follow the same rules. */
export function positiveInt(what: string, v: unknown, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) throw bad(what, v, 'a whole number greater than 0');
  return v;
}

/** Shared with ShoalStore too: a cookie name is an RFC 7230 token. */
export function cookieNameOption(what: string, v: unknown, fallback: string): string {
  const name = v ?? fallback;
  if (typeof name !== 'string' || !isCookieName(name)) throw bad(what, name, 'a cookie name (letters, digits and !#$%&\'*+-.^_`|~)');
  return name;
}

export function resolveSessionOptions(o: SessionOptions | undefined): ResolvedSessionOptions {
  if (typeof o !== 'object' || o === null) throw bad('(options)', o, "an object such as { secret: '<32+ random characters>' }");
  if (o.secret !== undefined && o.secrets !== undefined) throw bad('secret', '(both secret and secrets)', 'one of secret or secrets');
  const secrets = validateSecrets(o.secrets !== undefined ? [...o.secrets] : o.secret !== undefined ? [o.secret] : []);
  const cookieName = cookieNameOption('cookieName', o.cookieName, DEFAULT_COOKIE_NAME);
  const c = o.cookie ?? {};
  const sameSite = c.sameSite ?? 'lax';
  if (!['lax', 'strict', 'none'].includes(sameSite)) throw bad('cookie.sameSite', sameSite, "'lax', 'strict' or 'none'");
  const secure = c.secure ?? 'auto';
  if (secure !== true && secure !== false && secure !== 'auto') throw bad('cookie.secure', secure, "true, false or 'auto'");
  if (sameSite === 'none' && secure === false) throw bad('cookie.secure', secure, "true or 'auto' with sameSite 'none' (browsers drop SameSite=None cookies that are not Secure)");
  const path = c.path ?? '/';
  if (typeof path !== 'string' || !path.startsWith('/') || /[;\s]/.test(path)) throw bad('cookie.path', path, "a path starting with '/', without ';' or spaces");
  if (c.domain !== undefined && (typeof c.domain !== 'string' || !/^[A-Za-z0-9.-]+$/.test(c.domain))) throw bad('cookie.domain', c.domain, 'a host name');
  const httpOnly = c.httpOnly ?? true;
  if (typeof httpOnly !== 'boolean') throw bad('cookie.httpOnly', httpOnly, 'true or false');
  // Max-Age is in whole seconds: under 1000 ms it would be 0, which tells the browser to drop the cookie.
  const maxAgeMs = c.maxAgeMs === undefined ? undefined : positiveInt('cookie.maxAgeMs', c.maxAgeMs, 0);
  if (maxAgeMs !== undefined && maxAgeMs < 1000) throw bad('cookie.maxAgeMs', maxAgeMs, 'at least 1000 (cookies count whole seconds)');
  const ttlMs = positiveInt('ttlMs', o.ttlMs, DEFAULT_SESSION_TTL_MS);
  return Object.freeze({
    secrets: Object.freeze([...secrets]),
    cookieName,
    cookie: Object.freeze({ path, httpOnly, sameSite, secure, ...(c.domain ? { domain: c.domain } : {}), ...(maxAgeMs ? { maxAgeMs } : {}) }),
    ttlMs,
    maxSessionBytes: positiveInt('maxSessionBytes', o.maxSessionBytes, DEFAULT_MAX_SESSION_BYTES),
    touchAfterMs: positiveInt('touchAfterMs', o.touchAfterMs, defaultTouchAfterMs(ttlMs)),
  });
}
