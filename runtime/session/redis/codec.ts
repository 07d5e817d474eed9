/**
 * How a session lives in Redis: one hash per session, one field per
 * attribute, so a write sends only what changed and the server merges it
 * field by field (./merge-script.ts).
 *
 *   <prefix>s:<id>   hash
 *     a:<key>  "<version>|<json>"   an attribute
 *     a:<key>  "<version>|"         a deleted attribute (tombstone; JSON is never empty)
 *     !d       "<version>"          destroyed at (the session tombstone)
 *     !t / !e  ms                   touchedAt / expiresAt
 *   expires (PEXPIREAT) at expiresAt + the tombstone retention
 *
 * Versions are encoded HLC timestamps (../hlc.ts): ASCII, fixed-width
 * fields, never containing '|', and their byte order is their time order, so
 * the script compares them as strings.
 */
import type { Attr, Attrs, Delta, SessionState } from '../model.js';
import { isTombstone } from '../model.js';

export const ATTR_PREFIX = 'a:';
export const F_DESTROYED = '!d';
export const F_TOUCHED = '!t';
export const F_EXPIRES = '!e';

/** The script's ARGV for one delta: destroyed, touchedAt, expiresAt ('' when absent), then field/value pairs. */
export function encodeDelta(d: Delta): string[] {
  const out = [d.destroyed ?? '', d.touchedAt === undefined ? '' : String(d.touchedAt), d.expiresAt === undefined ? '' : String(d.expiresAt)];
  if (d.attrs) {
    for (const k in d.attrs) {
      const a = d.attrs[k]!;
      out.push(ATTR_PREFIX + k, isTombstone(a) ? `${a.version}|` : `${a.version}|${JSON.stringify(a.value)}`);
    }
  }
  return out;
}

/** A session hash (HGETALL) back to a state; undefined for an empty hash (no such session). Malformed fields are skipped. */
export function decodeHash(h: Record<string, string>): SessionState | undefined {
  const keys = Object.keys(h);
  if (keys.length === 0) return undefined;
  const attrs = Object.create(null) as Record<string, Attr>;
  for (const f of keys) {
    if (!f.startsWith(ATTR_PREFIX)) continue;
    const raw = h[f]!;
    const bar = raw.indexOf('|');
    if (bar <= 0) continue;
    const version = raw.slice(0, bar);
    const json = raw.slice(bar + 1);
    if (json === '') { attrs[f.slice(ATTR_PREFIX.length)] = { version, tombstone: true }; continue; }
    try {
      attrs[f.slice(ATTR_PREFIX.length)] = { version, value: JSON.parse(json) as never };
    } catch { /* not ours: skip rather than fail the whole session */ }
  }
  const state: { attrs: Attrs; touchedAt: number; expiresAt: number; destroyed?: string } = {
    attrs,
    touchedAt: Number(h[F_TOUCHED] ?? 0) || 0,
    expiresAt: Number(h[F_EXPIRES] ?? 0) || 0,
  };
  if (h[F_DESTROYED]) state.destroyed = h[F_DESTROYED];
  return state;
}
