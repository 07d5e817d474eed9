/**
 * The session store's options, their defaults and the shapes it reports
 * (kept apart from store.ts to keep that file about behaviour).
 */
import { DEFAULT_TOMBSTONE_RETENTION_MS } from './model.js';

/** Sliding: a session untouched for this long expires (OWASP cites 15-30 min idle timeouts for low-risk apps). */
export const DEFAULT_SESSION_TTL_MS = 30 * 60_000;
/** Live data per session (keys + JSON values). Sessions are copied to every worker and host: large data belongs elsewhere. */
export const DEFAULT_MAX_SESSION_BYTES = 64 * 1024;
/** Sessions held per replica, whatever their size (destroyed ones awaiting purge count too). */
export const DEFAULT_MAX_SESSIONS = 100_000;
/** Live data held per replica; V8 needs a few times this in heap. */
export const DEFAULT_MAX_STORE_BYTES = 64 * 1024 * 1024;
export const DEFAULT_SWEEP_INTERVAL_MS = 1_000;
/** Sessions examined per sweep tick: measured at 0.2-0.4 ms median per tick (100k sessions, 2-core dev machine). */
export const DEFAULT_SWEEP_BATCH = 500;

/** Runs `tick` every `everyMs` until the returned function is called. */
export type Scheduler = (tick: () => void, everyMs: number) => () => void;

export interface SessionStoreOptions {
  readonly ttlMs?: number;
  readonly maxSessionBytes?: number;
  readonly maxSessions?: number;
  readonly maxBytes?: number;
  readonly sweepIntervalMs?: number;
  readonly sweepBatch?: number;
  readonly tombstoneRetentionMs?: number;
  /** Clock in ms; Date.now by default. */
  readonly now?: () => number;
  /** Drives sweeps; an unref'd setInterval by default. */
  readonly schedule?: Scheduler;
}

export interface ApplyOptions {
  /** False for deltas replicated from a peer that already checked them. Default true. */
  readonly enforceLimit?: boolean;
  /** The per-session limit for this write, when the caller (a session manager) has its own; the store's by default. */
  readonly maxSessionBytes?: number;
}

export interface SweepResult { readonly examined: number; readonly expired: number; readonly purged: number }

/** Live sessions and their bytes, and running totals of sessions expired, evicted, and writes refused. */
export interface StoreStats {
  readonly sessions: number; readonly bytes: number; readonly expired: number; readonly evicted: number; readonly refused: number;
}

export type ResolvedOptions = Required<Omit<SessionStoreOptions, 'schedule'>> & { readonly schedule: Scheduler };

const defaultSchedule: Scheduler = (tick, everyMs) => {
  const t = setInterval(tick, everyMs);
  t.unref();
  return () => clearInterval(t);
};

export function resolveOptions(o: SessionStoreOptions): ResolvedOptions {
  return {
    ttlMs: positive('ttlMs', o.ttlMs ?? DEFAULT_SESSION_TTL_MS),
    maxSessionBytes: positive('maxSessionBytes', o.maxSessionBytes ?? DEFAULT_MAX_SESSION_BYTES),
    maxSessions: positive('maxSessions', o.maxSessions ?? DEFAULT_MAX_SESSIONS),
    maxBytes: positive('maxBytes', o.maxBytes ?? DEFAULT_MAX_STORE_BYTES),
    sweepIntervalMs: positive('sweepIntervalMs', o.sweepIntervalMs ?? DEFAULT_SWEEP_INTERVAL_MS),
    sweepBatch: positive('sweepBatch', o.sweepBatch ?? DEFAULT_SWEEP_BATCH),
    tombstoneRetentionMs: positive('tombstoneRetentionMs', o.tombstoneRetentionMs ?? DEFAULT_TOMBSTONE_RETENTION_MS),
    now: o.now ?? Date.now,
    schedule: o.schedule ?? defaultSchedule,
  };
}

function positive(name: string, v: number): number {
  if (!(v > 0)) throw new RangeError(`${name} must be a positive number, got ${v}`);
  return v;
}
