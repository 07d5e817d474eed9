/**
 * `shoal/express`: a store for express-session that keeps sessions in the
 * host's replicated store and saves changes attribute by attribute.
 *
 *   import session from 'express-session'
 *   import { ShoalStore } from 'shoal/express'
 *   app.use(session({ store: new ShoalStore(), secret, resave: false, saveUninitialized: false }))
 *
 * express-session hands a store the whole session on every save. A store
 * that writes it whole (connect-redis and the rest) loses the change of a
 * parallel request of the same client: each writes back what it loaded.
 * ShoalStore remembers what each request loaded and turns the save into
 * the changed, added and removed top-level keys only, so parallel requests
 * that change different keys both land (keys are the unit of merging: two
 * requests changing one nested object still race, last writer wins).
 *
 * Saves resolve once every worker of the host has the change (see
 * replica.ts), so the response goes out after that.
 *
 * Hosts sharing sessions through Redis: `store.versionCheck()`, used
 * before session(), does what the fastify plugin does with the version
 * cookie (`<cookieName>.v`). It hands the version the client saw to get(),
 * which reads the session from Redis first when this host's copy is older;
 * and a save that changed something puts the new version in that cookie,
 * written after express-session's own Set-Cookie (versionCheck() wraps
 * writeHead before session() does, so express-session's header hook runs
 * first and the session cookie stays the first one, as clients expect).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { IncomingMessage, ServerResponse } from 'node:http';
import session from 'express-session';
import type { SessionData } from 'express-session';
import { readCookie, serializeCookie, type SameSite } from './cookie.js';
import { deleteAttr, destroySession, join, setAttr, touchSession, view, type Delta, type SessionState } from './model.js';
import { localReplica, seenVersion, versionCookieName } from './manager.js';
import { cookieNameOption, defaultTouchAfterMs, positiveInt } from './manager-options.js';
import { maxVersionOf } from './validate.js';
import type { Replica } from './replica.js';
import { DEFAULT_MAX_SESSION_BYTES, DEFAULT_SESSION_TTL_MS } from './store-options.js';

export interface ShoalStoreOptions {
  /** Idle lifetime when the cookie has no maxAge (with one, the session lives as long as its cookie). Default 30 minutes. */
  readonly ttlMs?: number;
  /** Largest session (keys + JSON values). Default 64 KiB. */
  readonly maxSessionBytes?: number;
  /** An unchanged session slides its expiry at most this often. Default min(60 s, ttl / 10). */
  readonly touchAfterMs?: number;
  /** express-session's `name` (default 'connect.sid'): the version cookie is named after it. */
  readonly cookieName?: string;
}

/** express-session's own default cookie name. */
const EXPRESS_SESSION_COOKIE = 'connect.sid';

type Callback = (err?: unknown) => void;
type Loaded = Map<string, string>;

/** A session as express-session hands it over: its data, the cookie, and non-enumerable methods. */
type ExpressSession = SessionData & Record<string, unknown>;

export class ShoalStore extends session.Store {
  readonly #replica: Replica;
  readonly #ttlMs: number;
  readonly #maxSessionBytes: number;
  readonly #touchAfterMs: number;
  /** express-session's cookie name, and the version cookie named after it. */
  readonly #cookieName: string;
  readonly #versionCookie: string;
  /** The version the request's client saw on some host (its version cookie), from versionCheck() to get(). */
  readonly #seen = new AsyncLocalStorage<string>();
  #warnedOrder = false;
  /**
   * What each response still has to send (set by a save, written with the
   * headers): the version cookie line, and the session cookie's own line,
   * sent again in case express-session sends none (see #writeVersionWithHeaders).
   */
  readonly #versionLine = new WeakMap<ServerResponse, { readonly version: string; readonly session: string | undefined }>();
  /** What each request loaded, key by key as JSON text: the base its save is compared with. */
  readonly #loaded = new WeakMap<object, Loaded>();

  constructor(opts: ShoalStoreOptions = {}) {
    super();
    this.#ttlMs = positiveInt('ttlMs', opts.ttlMs, DEFAULT_SESSION_TTL_MS);
    this.#maxSessionBytes = positiveInt('maxSessionBytes', opts.maxSessionBytes, DEFAULT_MAX_SESSION_BYTES);
    this.#touchAfterMs = positiveInt('touchAfterMs', opts.touchAfterMs, defaultTouchAfterMs(this.#ttlMs));
    this.#cookieName = cookieNameOption('cookieName', opts.cookieName, EXPRESS_SESSION_COOKIE);
    this.#versionCookie = versionCookieName(this.#cookieName);
    this.#replica = localReplica();
  }

  /**
   * Middleware to use before session() when hosts share sessions through
   * Redis: a client whose version cookie says it saw a newer version of its
   * session (on another host) than this host holds gets it read from Redis
   * first, and a response that saved a change tells the client its new
   * version. Passes straight through when sessions are not shared.
   */
  versionCheck(): (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void {
    return (req, res, next) => {
      if ((req as { session?: unknown }).session !== undefined) {
        if (!this.#warnedOrder) {
          this.#warnedOrder = true;
          // A warning rather than an error: sessions still work, only read-your-writes across hosts waits for the log.
          process.emitWarning('store.versionCheck() runs after session(), so it cannot pass the version on; app.use() it before session()', 'ShoalWarning');
        }
        next();
        return;
      }
      if (!this.#replica.shared) { next(); return; }
      this.#writeVersionWithHeaders(res);
      const min = seenVersion(req.headers.cookie, this.#cookieName);
      if (min === undefined) next();
      else this.#seen.run(min, next);
    };
  }

  override get(sid: string, cb: (err: unknown, session?: SessionData | null) => void): void {
    const min = this.#seen.getStore();
    const s = this.#replica.get(sid);
    if (s !== undefined && (min === undefined || (maxVersionOf(s) ?? '') >= min)) { cb(null, toExpress(s)); return; }
    // Read-through: a session this worker does not hold (evicted here, or only in Redis so far), or holds older than the client saw.
    this.#replica.fetch(sid, min).then(({ known }) => {
      const live = this.#replica.get(sid);
      if (live !== undefined) cb(null, toExpress(live));
      // Nobody could tell (Redis down): an empty session under the client's id (express-session
      // checked its signature), so that what it saves joins its session when Redis is back.
      else cb(null, known ? null : { cookie: { originalMaxAge: null } } as SessionData);
    }, (e: unknown) => cb(e));
  }

  /** express-session builds req.session here from what get() returned: remember it as the base of this request's save. */
  override createSession(req: Parameters<session.Store['createSession']>[0], data: SessionData): ReturnType<session.Store['createSession']> {
    const base: Loaded = new Map(Object.keys(data).map((k) => [k, JSON.stringify((data as ExpressSession)[k])]));
    const created = super.createSession(req, data);
    this.#loaded.set(created, base);
    return created;
  }

  override set(sid: string, sess: SessionData, cb: Callback = noop): void {
    // A session that expired (or was evicted) since this request loaded it is written whole, not as a diff of what is gone.
    const stored = this.#replica.get(sid) !== undefined;
    const base = (stored ? this.#loaded.get(sess) : undefined) ?? new Map<string, string>();
    const now: Loaded = new Map();
    let delta: Delta = {};
    try {
      const plain = JSON.parse(JSON.stringify(sess)) as Record<string, unknown>;
      for (const [k, v] of Object.entries(plain)) {
        const text = JSON.stringify(v);
        now.set(k, text);
        if (base.get(k) !== text) delta = join(delta, setAttr(k, v, this.#replica.version()));
      }
      for (const k of base.keys()) if (!now.has(k)) delta = join(delta, deleteAttr(k, this.#replica.version()));
      delta = join(delta, touchSession(Date.now(), this.#ttlOf(sess)));
      this.#replica.write(sid, delta, this.#maxSessionBytes);
      const version = maxVersionOf(delta);
      if (version !== undefined && this.#replica.shared) this.#sendVersion(sess, version);
    } catch (e) {
      cb(e);
      return;
    }
    this.#loaded.set(sess, now);
    this.#replica.replicated().then(() => cb(), cb);
  }

  override touch(sid: string, sess: SessionData, cb: Callback = noop): void {
    const s = this.#replica.get(sid);
    const at = Date.now();
    if (s !== undefined && at - s.touchedAt >= this.#touchAfterMs) this.#replica.write(sid, touchSession(at, this.#ttlOf(sess)));
    // A slid expiry is not a change the next request must see: no wait for replication.
    cb();
  }

  override destroy(sid: string, cb: Callback = noop): void {
    if (this.#replica.get(sid) === undefined) { cb(); return; }
    this.#replica.write(sid, destroySession(this.#replica.version()));
    this.#replica.replicated().then(() => cb(), cb);
  }

  override length(cb: (err: unknown, length?: number) => void): void {
    cb(null, this.#replica.store.size);
  }

  /**
   * Sets the version cookie on the response of the request that saved.
   * express-session saves before it writes the headers (its end() proxy),
   * and its Session carries the request; a save after the headers went out
   * (the app flushed them itself) cannot set it, and the log carries the
   * change to other hosts within milliseconds anyway.
   */
  #sendVersion(sess: SessionData, version: string): void {
    const req = (sess as { req?: IncomingMessage & { res?: ServerResponse; sessionID?: string } }).req;
    const res = req?.res;
    if (req === undefined || res === undefined || res.headersSent) return;
    const c = sess.cookie as Partial<SessionData['cookie']> | undefined;
    const attrs = { path: c?.path ?? '/', domain: c?.domain, httpOnly: c?.httpOnly ?? true, sameSite: sameSiteOf(c?.sameSite), secure: c?.secure === true };
    // The value express-session accepted for this session (`s:<id>.<signature>`, as the client sent it).
    const raw = readCookie(req.headers.cookie, this.#cookieName).find((v) => safeDecode(v).startsWith(`s:${req.sessionID}.`));
    const maxAge = typeof c?.maxAge === 'number' ? Math.max(0, Math.floor(c.maxAge / 1000)) : undefined;
    // A second save in one request replaces the first one's lines.
    this.#versionLine.set(res, {
      version: serializeCookie(this.#versionCookie, version, attrs),
      session: raw === undefined ? undefined : serializeCookie(this.#cookieName, raw, { ...attrs, maxAge }),
    });
  }

  /**
   * Adds the version cookie, if a save left one, when the headers are
   * written. Installed before express-session installs its own hook the same
   * way (on-headers), whose hook therefore runs first: the session cookie
   * comes first in Set-Cookie, the version cookie after it.
   */
  #writeVersionWithHeaders(res: ServerResponse): void {
    const pending = this.#versionLine;
    const sessionPrefix = `${this.#cookieName}=`;
    const writeHead = res.writeHead;
    res.writeHead = function (this: ServerResponse, ...args: unknown[]) {
      const lines = pending.get(res);
      if (lines !== undefined) {
        pending.delete(res);
        const prev = this.getHeader('set-cookie');
        const set = prev === undefined ? [] : Array.isArray(prev) ? prev : [String(prev)];
        // express-session sends its cookie only when it has a reason to; when it has none, the
        // session cookie is sent again, first, so that a client that keeps only the first
        // Set-Cookie line of a response still holds its session.
        const again = lines.session !== undefined && !set.some((l) => l.startsWith(sessionPrefix)) ? [lines.session] : [];
        this.setHeader('set-cookie', [...again, ...set, lines.version]);
      }
      return (writeHead as (...a: unknown[]) => ServerResponse).apply(this, args);
    } as ServerResponse['writeHead'];
  }

  /** The cookie's lifetime when it has one (as connect-redis does), else the store's idle TTL. */
  #ttlOf(sess: SessionData): number {
    const maxAge = sess.cookie?.originalMaxAge;
    return typeof maxAge === 'number' && maxAge > 0 ? maxAge : this.#ttlMs;
  }
}

const noop = (): void => {};

const safeDecode = (v: string): string => {
  try { return decodeURIComponent(v); } catch { return v; }
};

/** express-session's sameSite (the `cookie` package's: true means Strict, false or absent none, for which Lax is what browsers apply). */
function sameSiteOf(v: unknown): SameSite {
  if (v === true) return 'strict';
  const s = typeof v === 'string' ? v.toLowerCase() : '';
  return s === 'strict' || s === 'none' ? s : 'lax';
}

/** A deep, mutable copy for express-session (the stored values are frozen and shared), with the cookie it expects. */
function toExpress(s: SessionState): SessionData {
  const data = JSON.parse(JSON.stringify(view(s))) as ExpressSession;
  data.cookie ??= { originalMaxAge: null } as SessionData['cookie'];
  return data;
}

export default ShoalStore;
