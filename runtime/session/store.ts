/**
 * The local replica: session id → state (./model.ts), bounded and expiring.
 *
 * - Expiry slides: a session lives until its replicated `expiresAt`, which
 *   touches push forward (touch() builds one with this store's TTL). Until a
 *   session's first touch, it expires TTL after it was first stored here.
 *   An expired session reads as absent and is dropped on the spot.
 * - Bounds: at most maxSessions sessions and maxBytes bytes (live data, as
 *   sizeOf counts it); beyond either, the least recently used session goes.
 *   The Map keeps insertion order, and each get or write re-inserts its key,
 *   so the first key is always the least recently used.
 * - Sweeps are spread out: each tick examines at most sweepBatch sessions,
 *   resuming where the previous tick stopped (a live Map iterator, which
 *   skips deleted keys and reaches re-inserted ones again), and restarting at
 *   the front once it reaches the end. A thousand sessions that expire in the
 *   same second (all created at start-up, say) thus go in slices over
 *   several ticks, never in one stampede that blocks the event loop; one that
 *   is read before its turn is dropped lazily by get(). The same pass purges
 *   tombstones past their retention and forgets destroyed sessions.
 * - Size limit: a write that would make a session larger than maxSessionBytes
 *   is refused with SHOAL_ERR_SESSION_TOO_LARGE, and the stored session stays
 *   exactly as it was. Writes that shrink a session always pass (so a lowered
 *   limit never traps a session). Replicated deltas, which a peer has already
 *   accepted, skip the check ({ enforceLimit: false }): refusing them here
 *   would leave this replica diverged for ever.
 *
 * The sweep timer is unref'd: a store never keeps the process alive.
 */
import { ShoalError } from '../errors.js';
import { redactId } from './ids.js';
import { emptyState, isDestroyed, merge, purgeTombstones, sizeOf, touchSession, type Delta, type SessionState } from './model.js';
import { resolveOptions, type ApplyOptions, type SessionStoreOptions, type StoreStats, type SweepResult } from './store-options.js';

export {
  DEFAULT_MAX_SESSION_BYTES, DEFAULT_MAX_SESSIONS, DEFAULT_MAX_STORE_BYTES, DEFAULT_SESSION_TTL_MS, DEFAULT_SWEEP_BATCH,
  DEFAULT_SWEEP_INTERVAL_MS, type ApplyOptions, type Scheduler, type SessionStoreOptions, type StoreStats, type SweepResult,
} from './store-options.js';

interface Entry {
  state: SessionState;
  bytes: number;
  /** Expiry before the first touch (see the header). */
  readonly fallbackExpiry: number;
}

export class SessionStore {
  readonly ttlMs: number;
  readonly maxSessionBytes: number;
  readonly maxSessions: number;
  readonly maxBytes: number;
  readonly sweepBatch: number;
  readonly tombstoneRetentionMs: number;
  readonly #now: () => number;
  readonly #map = new Map<string, Entry>();
  #cursor: Iterator<[string, Entry]> | undefined;
  #cancel: (() => void) | undefined;
  #bytes = 0;
  #expired = 0;
  #evicted = 0;
  #refused = 0;
  /** The key last moved to the end of the map by get(), while it is still last (any other insertion clears it). */
  #mostRecent: string | undefined;

  constructor(opts: SessionStoreOptions = {}) {
    const o = resolveOptions(opts);
    this.ttlMs = o.ttlMs;
    this.maxSessionBytes = o.maxSessionBytes;
    this.maxSessions = o.maxSessions;
    this.maxBytes = o.maxBytes;
    this.sweepBatch = o.sweepBatch;
    this.tombstoneRetentionMs = o.tombstoneRetentionMs;
    this.#now = o.now;
    this.#cancel = o.schedule(() => this.sweep(), o.sweepIntervalMs);
  }

  get size(): number { return this.#map.size; }

  get bytes(): number { return this.#bytes; }

  stats(): StoreStats {
    return { sessions: this.#map.size, bytes: this.#bytes, expired: this.#expired, evicted: this.#evicted, refused: this.#refused };
  }

  has(id: string): boolean {
    return this.#live(id) !== undefined;
  }

  /** The session's state (destroyed ones included: see isDestroyed), or undefined if absent or expired. Marks it recently used. */
  get(id: string): SessionState | undefined {
    const e = this.#live(id);
    if (e === undefined) return undefined;
    // Already the most recently used (the common case: several reads of one session in one
    // request): moving it to the end again changes nothing and costs a delete and an insert.
    if (this.#mostRecent !== id) {
      this.#map.delete(id);
      this.#map.set(id, e);
      this.#mostRecent = id;
    }
    return e.state;
  }

  /**
   * Merges `delta` into the session (creating it if needed) and returns the
   * new state, or undefined if the result is already expired (a late delta
   * for a session gone here). Throws SHOAL_ERR_SESSION_TOO_LARGE, changing
   * nothing, when the write would push the session over maxSessionBytes.
   */
  applyDelta(id: string, delta: Delta, opts: ApplyOptions = {}): SessionState | undefined {
    const now = this.#now();
    const old = this.#live(id);
    const state = merge(old?.state ?? emptyState(), delta);
    const bytes = state === old?.state ? old.bytes : sizeOf(state);
    const oldBytes = old?.bytes ?? 0;
    const limit = opts.maxSessionBytes ?? this.maxSessionBytes;
    if ((opts.enforceLimit ?? true) && bytes > limit && bytes > oldBytes) {
      this.#refused++;
      throw new ShoalError('SHOAL_ERR_SESSION_TOO_LARGE', redactId(id), String(bytes), String(limit));
    }
    const entry: Entry = { state, bytes, fallbackExpiry: old?.fallbackExpiry ?? now + this.ttlMs };
    if (old !== undefined) this.#remove(id, old);
    if (expiryOf(entry) <= now) {
      // A replicated expiry in the past: the session is over here too.
      if (old !== undefined) this.#expired++;
      return undefined;
    }
    this.#map.set(id, entry);
    this.#mostRecent = undefined;
    this.#bytes += bytes;
    this.#evict(id);
    return state;
  }

  /** Slides the session's expiry to now + ttlMs; returns the delta to replicate, or undefined if there is no such session. */
  touch(id: string): Delta | undefined {
    if (!this.has(id)) return undefined;
    const delta = touchSession(this.#now(), this.ttlMs);
    this.applyDelta(id, delta);
    return delta;
  }

  delete(id: string): boolean {
    const e = this.#map.get(id);
    if (e === undefined) return false;
    this.#remove(id, e);
    return true;
  }

  /** Every live session, least recently used first, without changing the order (to hand a snapshot to a new worker). */
  *entries(): IterableIterator<[string, SessionState]> {
    const now = this.#now();
    for (const [id, e] of this.#map) if (expiryOf(e) > now) yield [id, e.state];
  }

  /** One slice of the spread-out sweep (see the header); the timer calls it, tests may too. */
  sweep(): SweepResult {
    const now = this.#now();
    let [examined, expired, purged] = [0, 0, 0];
    while (examined < this.sweepBatch && this.#map.size > 0) {
      this.#cursor ??= this.#map.entries();
      const next = this.#cursor.next();
      if (next.done) {
        this.#cursor = undefined;
        // Stop at the end of a pass even with budget left: the next tick starts a new one.
        break;
      }
      const [id, e] = next.value;
      examined++;
      if (expiryOf(e) <= now) {
        this.#remove(id, e);
        this.#expired++;
        expired++;
        continue;
      }
      const state = purgeTombstones(e.state, now, this.tombstoneRetentionMs);
      if (state === e.state) continue;
      purged++;
      // A destroyed session whose tombstones have all aged out, and that nothing revived, is gone for good.
      if (isDestroyed(e.state) && state.destroyed === undefined) this.#remove(id, e);
      else e.state = state; // tombstones do not count in bytes: the total is unchanged
    }
    return { examined, expired, purged };
  }

  /** Forgets every session (the sweeps go on). */
  clear(): void {
    this.#cursor = undefined;
    this.#mostRecent = undefined;
    this.#map.clear();
    this.#bytes = 0;
  }

  /** Stops the sweeps and forgets every session. Idempotent. */
  close(): void {
    this.#cancel?.();
    this.#cancel = undefined;
    this.#cursor = undefined;
    this.#mostRecent = undefined;
    this.#map.clear();
    this.#bytes = 0;
  }

  /** The entry if present and not expired; an expired one is dropped. */
  #live(id: string): Entry | undefined {
    const e = this.#map.get(id);
    if (e === undefined) return undefined;
    if (expiryOf(e) > this.#now()) return e;
    this.#remove(id, e);
    this.#expired++;
    return undefined;
  }

  #remove(id: string, e: Entry): void {
    if (this.#mostRecent === id) this.#mostRecent = undefined;
    this.#map.delete(id);
    this.#bytes -= e.bytes;
  }

  /** Evicts least recently used sessions until within bounds, never `keep` (the one just written). */
  #evict(keep: string): void {
    while (this.#map.size > this.maxSessions || this.#bytes > this.maxBytes) {
      const first = this.#map.entries().next();
      if (first.done || first.value[0] === keep) return;
      this.#remove(first.value[0], first.value[1]);
      this.#evicted++;
    }
  }
}

const expiryOf = (e: Entry): number => (e.state.expiresAt > 0 ? e.state.expiresAt : e.fallbackExpiry);
