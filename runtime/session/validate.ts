/**
 * Shape checks for session data that crosses a process boundary (IPC now,
 * Redis later). The primary merges what workers send into the host's copy
 * that every new worker starts from, so a malformed delta (a bug, a foreign
 * process.send) must be refused there, not merged and spread.
 *
 * Values are not walked: they arrived as JSON, so they are JSON.
 */
import { parseHlc } from './hlc.js';
import type { Delta, SessionState } from './model.js';

/** Session ids as stores key them: ours (base64url) and other generators' (express-session's uid-safe), printable ASCII, bounded. */
const SESSION_KEY_RE = /^[\x21-\x7e]{1,256}$/;

export const isSessionKey = (id: unknown): id is string => typeof id === 'string' && SESSION_KEY_RE.test(id);

const isVersion = (v: unknown): v is string => typeof v === 'string' && parseHlc(v) !== undefined;

const isTime = (n: unknown): boolean => typeof n === 'number' && Number.isFinite(n) && n >= 0;

const isObject = (o: unknown): o is Record<string, unknown> => typeof o === 'object' && o !== null && !Array.isArray(o);

function isAttr(a: unknown): boolean {
  if (!isObject(a) || !isVersion(a.version)) return false;
  return a.tombstone === true ? !('value' in a) : 'value' in a && !('tombstone' in a);
}

export function isDelta(d: unknown): d is Delta {
  if (!isObject(d)) return false;
  if (d.attrs !== undefined) {
    if (!isObject(d.attrs)) return false;
    for (const k of Object.keys(d.attrs)) if (!isAttr(d.attrs[k])) return false;
  }
  if (d.destroyed !== undefined && !isVersion(d.destroyed)) return false;
  if (d.touchedAt !== undefined && !isTime(d.touchedAt)) return false;
  if (d.expiresAt !== undefined && !isTime(d.expiresAt)) return false;
  return true;
}

export const isState = (s: unknown): s is SessionState =>
  isDelta(s) && isObject((s as Delta).attrs) && isTime((s as Delta).touchedAt) && isTime((s as Delta).expiresAt);

/** A list of [id, delta] pairs; returns the first problem found, or undefined when it is well formed. */
export function checkChanges(changes: unknown): string | undefined {
  if (!Array.isArray(changes)) return 'changes is not a list';
  for (const c of changes as unknown[]) {
    if (!Array.isArray(c) || c.length !== 2) return 'a change is not an [id, delta] pair';
    if (!isSessionKey(c[0])) return 'a session id is not 1-256 printable ASCII characters';
    if (!isDelta(c[1])) return 'a delta is malformed';
  }
  return undefined;
}

/** The largest version a delta carries (attributes or destroy), to advance a clock past it. */
export function maxVersionOf(d: Delta): string | undefined {
  let max = d.destroyed;
  if (d.attrs) for (const k in d.attrs) {
    const v = d.attrs[k]!.version;
    if (max === undefined || v > max) max = v;
  }
  return max;
}
