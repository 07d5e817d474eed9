/**
 * The session model: a session is a map of attributes, each versioned by a
 * hybrid logical clock (./hlc.ts), so concurrent writes merge attribute by
 * attribute and two requests that change different keys never lose each
 * other's change (whole-session stores keep only one of the two sessions).
 *
 * Every operation yields a Delta (only what changed, with its versions), and
 * merge() folds a delta into a state. A state is itself a delta of
 * everything, and join() is a join-semilattice: commutative, associative and
 * idempotent. So replicas that receive the same deltas in any order, with
 * duplicates, end in the same state.
 *
 * Rules:
 * - Per attribute, the greatest version wins; a delete is a tombstone that
 *   wins like a write. Equal versions mean the same event, but should two
 *   different entries ever carry one (a reused node id), the tombstone wins,
 *   then the greater JSON text, so that merge stays order-independent.
 * - destroy at version V is a tombstone for the whole session: it hides every
 *   attribute whose version is ≤ V, including keys this replica has not seen
 *   yet; a set with a version > V revives that attribute (and only that one),
 *   like a write that happened after the destroy. Hidden entries are dropped,
 *   so the state stays small and its shape is the same in every replica.
 * - touchedAt and expiresAt merge by max: touches slide the expiry, never
 *   shorten it (end a session early with destroy).
 * - Tombstones are kept for a retention period (DEFAULT_TOMBSTONE_RETENTION_MS)
 *   so that a late delta cannot resurrect what was deleted, then purged. A
 *   delta delayed longer than that may resurrect a deleted key: transports
 *   must bound their delays (replay queues) below the retention.
 *
 * Versions are encoded HLC strings (formatHlc), compared as strings: deltas
 * are JSON as they are. Attribute records have no prototype, so keys such as
 * `__proto__` or `constructor` are plain keys.
 */
import { ShoalError } from '../errors.js';
import { wallOf } from './hlc.js';

export type Json = null | boolean | number | string | readonly Json[] | { readonly [k: string]: Json };
/** An encoded HLC timestamp (formatHlc): string order is version order. */
export type Version = string;

export type Attr =
  | { readonly version: Version; readonly value: Json }
  | { readonly version: Version; readonly tombstone: true };

export type Attrs = Readonly<Record<string, Attr>>;

export interface Delta {
  readonly attrs?: Attrs;
  /** Session tombstone: hides every attribute with a version ≤ this one. */
  readonly destroyed?: Version;
  readonly touchedAt?: number;
  readonly expiresAt?: number;
}

export interface SessionState extends Delta {
  readonly attrs: Attrs;
  readonly touchedAt: number;
  /** 0 until the first touch. */
  readonly expiresAt: number;
}

/** Two TTLs (DEFAULT_SESSION_TTL_MS is 30 min): far longer than replication delays, short enough to keep deleted keys cheap. */
export const DEFAULT_TOMBSTONE_RETENTION_MS = 60 * 60_000;

const EMPTY: Attrs = Object.freeze(Object.create(null) as Record<string, Attr>);

export const emptyState = (): SessionState => ({ attrs: EMPTY, touchedAt: 0, expiresAt: 0 });

export const isTombstone = (a: Attr): a is Extract<Attr, { tombstone: true }> => 'tombstone' in a;

const valueBytes = new WeakMap<Attr, number>();

/**
 * set(key, value): the value goes through JSON now, so this replica holds
 * exactly what the others will receive (a Date becomes a string, NaN null),
 * and it is frozen, because the state shares it and mutating it would change
 * the session without a version.
 */
export function setAttr(key: string, value: unknown, version: Version): Delta {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (e) {
    throw new ShoalError('SHOAL_ERR_SESSION_VALUE', key, (e as Error).message);
  }
  if (text === undefined) throw new ShoalError('SHOAL_ERR_SESSION_VALUE', key, `${typeof value} is not JSON`);
  const attr: Attr = { version, value: deepFreeze(JSON.parse(text) as Json) };
  valueBytes.set(attr, Buffer.byteLength(text));
  return { attrs: record([[key, attr]]) };
}

export const deleteAttr = (key: string, version: Version): Delta => ({ attrs: record([[key, { version, tombstone: true }]]) });

export const destroySession = (version: Version): Delta => ({ destroyed: version });

export const touchSession = (now: number, ttlMs: number): Delta => ({ touchedAt: now, expiresAt: now + ttlMs });

/** The entry that wins between two for the same key (see the tie rule above). */
function winner(a: Attr, b: Attr): Attr {
  if (a.version !== b.version) return a.version > b.version ? a : b;
  if (a === b) return a;
  if (isTombstone(a)) return a;
  if (isTombstone(b)) return b;
  return JSON.stringify(a.value) >= JSON.stringify(b.value) ? a : b;
}

const maxVersion = (a: Version | undefined, b: Version | undefined): Version | undefined =>
  a === undefined ? b : b === undefined ? a : a > b ? a : b;

/** Combines two deltas into one with the same effect (used to batch or compact queued deltas). */
export function join(a: Delta, b: Delta): Delta {
  const destroyed = maxVersion(a.destroyed, b.destroyed);
  const attrs = joinAttrs(a.attrs ?? EMPTY, b.attrs ?? EMPTY, destroyed);
  const out: { attrs?: Attrs; destroyed?: Version; touchedAt?: number; expiresAt?: number } = {};
  if (!isEmpty(attrs)) out.attrs = attrs;
  if (destroyed !== undefined) out.destroyed = destroyed;
  const touchedAt = maxNum(a.touchedAt, b.touchedAt);
  if (touchedAt !== undefined) out.touchedAt = touchedAt;
  const expiresAt = maxNum(a.expiresAt, b.expiresAt);
  if (expiresAt !== undefined) out.expiresAt = expiresAt;
  return out;
}

/**
 * Folds `delta` into `state`. Returns `state` itself when the delta changes
 * nothing (a duplicate, or only older versions), so callers can tell.
 */
export function merge(state: SessionState, delta: Delta): SessionState {
  const destroyed = maxVersion(state.destroyed, delta.destroyed);
  const attrs = joinAttrs(state.attrs, delta.attrs ?? EMPTY, destroyed);
  const touchedAt = Math.max(state.touchedAt, delta.touchedAt ?? 0);
  const expiresAt = Math.max(state.expiresAt, delta.expiresAt ?? 0);
  if (attrs === state.attrs && destroyed === state.destroyed && touchedAt === state.touchedAt && expiresAt === state.expiresAt) {
    return state;
  }
  return destroyed === undefined ? { attrs, touchedAt, expiresAt } : { attrs, destroyed, touchedAt, expiresAt };
}

/** Joins two attribute maps, dropping what `destroyed` hides; returns `a` itself if nothing changed. */
function joinAttrs(a: Attrs, b: Attrs, destroyed: Version | undefined): Attrs {
  let out: Record<string, Attr> | undefined;
  const edit = (): Record<string, Attr> => (out ??= Object.assign(Object.create(null) as Record<string, Attr>, a));
  if (destroyed !== undefined) {
    for (const k in a) if (a[k]!.version <= destroyed) delete edit()[k];
  }
  for (const k in b) {
    const incoming = b[k]!;
    if (destroyed !== undefined && incoming.version <= destroyed) continue;
    const current = own(out ?? a, k);
    const w = current === undefined ? incoming : winner(current, incoming);
    if (w !== current) edit()[k] = w;
  }
  if (out === undefined) return a;
  return isEmpty(out) ? EMPTY : out;
}

/** The live attributes as an object without prototype (so a `__proto__` key is just a key); values are frozen: copy before changing one. */
export function view(state: SessionState): Record<string, Json> {
  const out = Object.create(null) as Record<string, Json>;
  for (const k in state.attrs) {
    const a = state.attrs[k]!;
    if (!isTombstone(a)) out[k] = a.value;
  }
  return out;
}

export function getAttr(state: SessionState, key: string): Json | undefined {
  const a = own(state.attrs, key);
  return a === undefined || isTombstone(a) ? undefined : a.value;
}

/** True once destroyed with nothing revived since. */
export function isDestroyed(state: SessionState): boolean {
  if (state.destroyed === undefined) return false;
  for (const k in state.attrs) if (!isTombstone(state.attrs[k]!)) return false;
  return true;
}

/** Bytes of the live data: UTF-8 keys plus the JSON text of their values. Tombstones are not counted. */
export function sizeOf(state: SessionState): number {
  let n = 0;
  for (const k in state.attrs) {
    const a = state.attrs[k]!;
    if (isTombstone(a)) continue;
    let v = valueBytes.get(a);
    if (v === undefined) {
      v = Buffer.byteLength(JSON.stringify(a.value));
      valueBytes.set(a, v);
    }
    n += Buffer.byteLength(k) + v;
  }
  return n;
}

/**
 * Drops attribute tombstones, and the session tombstone, whose version is
 * older than `now - retentionMs`. Returns `state` itself when nothing is old
 * enough. This is the one step outside the semilattice (see the header).
 * The session tombstone of a session with nothing live stays as long as any
 * attribute tombstone does, so that it reads as destroyed until the end and
 * the store then forgets it whole.
 */
export function purgeTombstones(state: SessionState, now: number, retentionMs: number): SessionState {
  const cutoff = now - retentionMs;
  let attrs: Record<string, Attr> | undefined;
  for (const k in state.attrs) {
    const a = state.attrs[k]!;
    if (isTombstone(a) && wallOf(a.version) < cutoff) {
      attrs ??= Object.assign(Object.create(null) as Record<string, Attr>, state.attrs);
      delete attrs[k];
    }
  }
  const next = { attrs: attrs ?? state.attrs, touchedAt: state.touchedAt, expiresAt: state.expiresAt };
  const dropDestroyed = state.destroyed !== undefined && wallOf(state.destroyed) < cutoff &&
    (isEmpty(next.attrs) || !isDestroyed({ ...next, destroyed: state.destroyed }));
  if (attrs === undefined && !dropDestroyed) return state;
  return dropDestroyed || state.destroyed === undefined ? next : { ...next, destroyed: state.destroyed };
}

/** Deltas parsed from JSON have Object.prototype: never read `constructor` and co. from it. */
const own = (r: Attrs, k: string): Attr | undefined => (Object.hasOwn(r, k) ? r[k] : undefined);

function record(entries: [string, Attr][]): Attrs {
  const r = Object.create(null) as Record<string, Attr>;
  for (const [k, v] of entries) r[k] = v;
  return r;
}

function isEmpty(r: Attrs): boolean {
  for (const _ in r) return false;
  return true;
}

const maxNum = (a: number | undefined, b: number | undefined): number | undefined =>
  a === undefined ? b : b === undefined ? a : Math.max(a, b);

function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v)) deepFreeze(x);
  }
  return v;
}
