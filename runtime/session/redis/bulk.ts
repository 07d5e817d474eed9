/**
 * The two whole-store moves of the link, in pages of batchSize sessions:
 * pushing every session a host holds to Redis (a re-seed, after Redis lost
 * its data or the outage queue overflowed), and reading every session
 * Redis holds (a host's start, or a gap in the log). Both are safe to
 * overlap with ordinary traffic: merging is idempotent and commutative.
 */
import type { Logger } from 'pino';
import type { SessionChanges } from '../../ipc/messages.js';
import type { SessionState } from '../model.js';
import { readHashes, scanKeys, type Client } from './client.js';
import { decodeHash } from './codec.js';

/** Writes `entries` in batches of `batchSize` with `write` (one pipeline each). */
export async function pushAll(entries: Iterable<[string, SessionState]>, batchSize: number, write: (changes: SessionChanges) => Promise<void>): Promise<void> {
  let slice: SessionChanges = [];
  for (const entry of entries) {
    slice.push(entry);
    if (slice.length >= batchSize) { await write(slice); slice = []; }
  }
  if (slice.length > 0) await write(slice);
}

export interface ReadAllSettings {
  readonly prefix: string;
  readonly batchSize: number;
  /** A large store takes a while: how far the read got is logged at most this often. */
  readonly progressMs: number;
}

/** Hands every session under `prefix` to `apply`, page by page; resolves with how many there were. */
export async function readAll(c: Client, s: ReadAllSettings, apply: (changes: SessionChanges) => void, log: Logger): Promise<number> {
  const started = Date.now();
  let read = 0;
  let shownAt = started;
  for await (const keys of scanKeys(c, `${s.prefix}s:*`, s.batchSize)) {
    const hashes = await readHashes(c, keys);
    const changes: SessionChanges = [];
    keys.forEach((k, i) => {
      const state = decodeHash(hashes[i] ?? {});
      if (state) changes.push([k.slice(s.prefix.length + 2), state]);
    });
    if (changes.length > 0) apply(changes);
    read += changes.length;
    if (Date.now() - shownAt >= s.progressMs) {
      shownAt = Date.now();
      log.info({ sessions: read, ms: shownAt - started }, 'reading sessions from redis…');
    }
  }
  log.info({ sessions: read, ms: Date.now() - started }, 'read every session from redis');
  return read;
}
