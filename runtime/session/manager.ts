/**
 * The plain session API, for any framework; the fastify plugin and the
 * express-session store are built on it.
 *
 *   const manager = sessions({ secret })
 *   const s = manager.load(req.headers.cookie, { secure })   // sync: a map lookup
 *   s.get('cart'); s.set('cart', [...]); s.delete('coupon')
 *   await s.save()                     // before the response goes out
 *   for (const line of s.cookies()) res.appendHeader('set-cookie', line)
 *
 * A session is attributes, each changed on its own (model.ts), so two
 * parallel requests of one client that change different keys both land.
 * A missing, malformed, forged or unknown cookie gives a fresh session that
 * stores nothing (and sends no cookie) until something is written; a fresh
 * session never takes an id the client chose (fixation).
 */
import { clearingCookie, readCookie, serializeCookie, type CookieAttributes } from './cookie.js';
import { newSessionId, sign, unsign } from './ids.js';
import { deleteAttr, destroySession, getAttr, join, setAttr, touchSession, view, type Delta, type Json, type SessionState } from './model.js';
import { resolveSessionOptions, type ResolvedSessionOptions, type SessionOptions } from './manager-options.js';
import { Replica } from './replica.js';
import { parseHlc } from './hlc.js';
import { maxVersionOf } from './validate.js';
import { workerState } from '../worker/state.js';

export type { CookieOptions, SessionOptions } from './manager-options.js';
export type { Json } from './model.js';

/** Verified cookie values kept so that a returning client costs no HMAC; cleared whole when full. */
const VERIFIED_CACHE_SIZE = 10_000;

/** This process's replica: the worker's (set up by the shim, fed by the primary), or a local in-memory store outside a cluster. */
export function localReplica(): Replica {
  const state = workerState();
  return (state.sessions ??= new Replica());
}

export interface LoadOptions {
  /** The request came over TLS (decides the Secure flag when cookie.secure is 'auto'). */
  readonly secure?: boolean;
}

export class SessionManager {
  readonly options: ResolvedSessionOptions;
  readonly #replica: Replica;
  readonly #verified = new Map<string, string>();
  /** The other way round: a verified cookie value by id, so that sending a returning client's cookie again costs no HMAC either. */
  readonly #valueOf = new Map<string, string>();

  constructor(options: SessionOptions, replica: Replica = localReplica()) {
    this.options = resolveSessionOptions(options);
    this.#replica = replica;
  }

  /**
   * The session a request's Cookie header names, from this process's replica
   * only (a map lookup), or a fresh one. Never throws for what the client sent.
   */
  load(cookieHeader: string | undefined, opts: LoadOptions = {}): Session {
    const r = this.resolve(cookieHeader, opts, false);
    return r as Session;
  }

  /**
   * As load(), but a session this process does not hold (evicted here, or
   * written on another host and not here yet) is first asked of the primary,
   * which asks Redis: read-through. What the adapters use.
   */
  loadAsync(cookieHeader: string | undefined, opts: LoadOptions = {}): Promise<Session> {
    return Promise.resolve(this.resolve(cookieHeader, opts, true));
  }

  /**
   * load() or loadAsync(): synchronous when the replica answers, a promise
   * only when it must fetch: the session is not here, or (hosts sharing
   * Redis) the client's version cookie says it saw a newer version of it
   * on another host than this one holds.
   */
  resolve(cookieHeader: string | undefined, opts: LoadOptions, fetch: boolean): Session | Promise<Session> {
    const secure = opts.secure === true;
    // The version the client saw elsewhere matters only when hosts share sessions and we may fetch.
    const min = fetch && this.#replica.shared ? seenVersion(cookieHeader, this.options.cookieName) : undefined;
    let missing: string | undefined;
    for (const value of readCookie(cookieHeader, this.options.cookieName)) {
      const id = this.#verify(value);
      if (id === undefined) continue;
      const here = this.#replica.get(id);
      if (here !== undefined && (min === undefined || (maxVersionOf(here) ?? '') >= min)) return new Session(this, this.#replica, id, true, secure, here);
      missing ??= id;
    }
    if (!fetch || missing === undefined) return new Session(this, this.#replica, newSessionId(), false, secure);
    const id = missing;
    return this.#replica.fetch(id, min).then(({ known }) => {
      if (this.#replica.get(id) !== undefined) return new Session(this, this.#replica, id, true, secure);
      // Nobody could tell whether it exists (Redis down, or no answer in time): keep the id the
      // client holds (signed by us, so ours), so that what the request writes joins its session
      // when Redis is back instead of starting another one the cookie would then point to.
      return new Session(this, this.#replica, known ? newSessionId() : id, false, secure);
    });
  }

  /** The cookie value for `id`: the one a client sent and this manager verified, else newly signed with the first secret. */
  cookieValue(id: string): string {
    return this.#valueOf.get(id) ?? sign(id, this.options.secrets[0]!);
  }

  /** The local replica's figures (sessions, bytes, replication lag). */
  stats(): ReturnType<Replica['stats']> { return this.#replica.stats(); }

  #verify(value: string): string | undefined {
    const hit = this.#verified.get(value);
    if (hit !== undefined) return hit;
    const id = unsign(value, this.options.secrets);
    if (id !== undefined) {
      if (this.#verified.size >= VERIFIED_CACHE_SIZE) { this.#verified.clear(); this.#valueOf.clear(); }
      this.#verified.set(value, id);
      this.#valueOf.set(id, value);
    }
    return id;
  }
}

export class Session {
  readonly #manager: SessionManager;
  readonly #replica: Replica;
  readonly #secure: boolean;
  #id: string;
  /** The session exists in the store (loaded, or written by this request). */
  #stored: boolean;
  /** The client sent a valid cookie for the session it started with. */
  #hadCookie: boolean;
  /** Changed since the last save(): save() waits for replication. */
  #dirty = false;
  #sendCookie = false;
  #clearCookie = false;
  /** The version this request's last write made (the client must find it on any host). */
  #version: string | undefined;

  /** `state`: the session as the caller just read it (saves a second lookup). */
  constructor(manager: SessionManager, replica: Replica, id: string, stored: boolean, secure: boolean, state?: SessionState) {
    this.#manager = manager;
    this.#replica = replica;
    this.#id = id;
    this.#stored = stored;
    this.#hadCookie = stored;
    this.#secure = secure;
    if (stored) this.#touchIfDue(state ?? this.#replica.get(id));
  }

  /** The session id. Secret: anyone who has it has the session; log redactId(id) at most. */
  get id(): string { return this.#id; }

  /** True until something is written: nothing is stored and no cookie is sent for an empty new session. */
  get isNew(): boolean { return !this.#stored; }

  get(key: string): Json | undefined {
    const s = this.#replica.get(this.#id);
    return s === undefined ? undefined : getAttr(s, key);
  }

  has(key: string): boolean { return this.get(key) !== undefined; }

  /** Every attribute, as an object without prototype whose values are frozen (copy before changing one). */
  all(): Record<string, Json> {
    const s = this.#replica.get(this.#id);
    return s === undefined ? Object.create(null) as Record<string, Json> : view(s);
  }

  /**
   * Sets one attribute. The value goes through JSON now (throws
   * SHOAL_ERR_SESSION_VALUE otherwise); a session that would outgrow
   * maxSessionBytes throws SHOAL_ERR_SESSION_TOO_LARGE and stays as it was.
   */
  set(key: string, value: unknown): void {
    this.#write(setAttr(key, value, this.#replica.version()));
  }

  delete(key: string): void {
    if (!this.#stored || this.get(key) === undefined) return;
    this.#write(deleteAttr(key, this.#replica.version()));
  }

  /** Moves the data to a new id and destroys the old one: call it on login (session fixation). */
  async regenerate(): Promise<void> {
    const data = this.all();
    const hadData = Object.keys(data).length > 0;
    this.#end();
    if (hadData) {
      let delta: Delta = {};
      for (const [k, v] of Object.entries(data)) delta = join(delta, setAttr(k, v, this.#replica.version()));
      this.#write(delta);
    }
    await this.save();
  }

  /** Ends the session everywhere; the request goes on with a fresh, empty one. */
  async destroy(): Promise<void> {
    this.#end();
    await this.save();
  }

  /** Resolves once this session's changes are on every worker of the host (at once if nothing changed). */
  async save(): Promise<void> {
    if (!this.#dirty) return;
    this.#dirty = false;
    await this.#replica.replicated();
  }

  /**
   * Every Set-Cookie value this response should carry: the session cookie
   * when it is new, renewed or cleared; and, when hosts share sessions
   * through Redis, after a write, the version the client must find on
   * whatever host serves it next.
   */
  cookies(): string[] {
    const main = this.setCookie();
    if (this.#version === undefined || !this.#stored || !this.#replica.shared) return main === undefined ? [] : [main];
    const o = this.#manager.options;
    // The session cookie goes first, sent again if it had no reason to be: a client that keeps
    // only the first Set-Cookie line of a response must still hold its session afterwards.
    return [
      main ?? serializeCookie(o.cookieName, this.#manager.cookieValue(this.#id), this.#attrs()),
      serializeCookie(versionCookieName(o.cookieName), this.#version, { ...this.#attrs(), maxAge: undefined }),
    ];
  }

  /** The session cookie's Set-Cookie value this response should carry, if any (see cookies()). */
  setCookie(): string | undefined {
    const o = this.#manager.options;
    const attrs = this.#attrs();
    if (this.#sendCookie && this.#stored) return serializeCookie(o.cookieName, sign(this.#id, o.secrets[0]!), attrs);
    if (this.#clearCookie) return clearingCookie(o.cookieName, attrs);
    return undefined;
  }

  #attrs(): CookieAttributes {
    const o = this.#manager.options;
    return {
      path: o.cookie.path,
      domain: o.cookie.domain,
      httpOnly: o.cookie.httpOnly,
      sameSite: o.cookie.sameSite,
      secure: o.cookie.secure === 'auto' ? this.#secure : o.cookie.secure,
      maxAge: o.cookie.maxAgeMs === undefined ? undefined : Math.floor(o.cookie.maxAgeMs / 1000),
    };
  }

  #write(delta: Delta): void {
    const o = this.#manager.options;
    const first = !this.#stored;
    this.#version = maxVersionOf(delta) ?? this.#version;
    // A new session starts its expiry with its first write.
    const d = first ? join(delta, touchSession(Date.now(), o.ttlMs)) : delta;
    this.#replica.write(this.#id, d, o.maxSessionBytes);
    this.#dirty = true;
    if (first) {
      this.#stored = true;
      this.#sendCookie = true;
      this.#clearCookie = false;
    }
  }

  /** Destroys the current session (if stored) and continues with a fresh id that stores nothing yet. */
  #end(): void {
    if (this.#stored) {
      this.#replica.write(this.#id, destroySession(this.#replica.version()));
      this.#dirty = true;
    }
    if (this.#hadCookie) this.#clearCookie = true;
    this.#id = newSessionId();
    this.#stored = false;
    this.#sendCookie = false;
  }

  #touchIfDue(s: SessionState | undefined): void {
    const o = this.#manager.options;
    const now = Date.now();
    if (s === undefined || now - s.touchedAt < o.touchAfterMs) return;
    // Not waited for by save(): a slid expiry is not a change the next request must see.
    this.#replica.write(this.#id, touchSession(now, o.ttlMs));
    if (o.cookie.maxAgeMs !== undefined) this.#sendCookie = true;
  }
}

/** The cookie that carries the last version a client saw of its session (shared sessions only). */
export const versionCookieName = (name: string): string => `${name}.v`;

/**
 * The version the client says it saw, if the cookie holds one. Not signed:
 * a forged one only makes this client's own requests read its session from
 * Redis once more; ids are what must not be forged, and they are signed.
 */
export function seenVersion(cookieHeader: string | undefined, name: string): string | undefined {
  let best: string | undefined;
  for (const v of readCookie(cookieHeader, versionCookieName(name))) if (parseHlc(v) !== undefined && (best === undefined || v > best)) best = v;
  return best;
}

/** A session manager on this process's replica: the plain API (see the header). */
export const sessions = (options: SessionOptions): SessionManager => new SessionManager(options);
