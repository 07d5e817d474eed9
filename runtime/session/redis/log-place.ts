/**
 * A host's place in the Redis change log (a stream), and what an entry of
 * it says. Kept apart from link.ts, which decides what to do with both.
 *
 * Stream ids are not contiguous, so every entry also carries a number, n:
 * one more than the entry before it (LOG_SCRIPT appends and numbers in one
 * step on the server). A reader sees from the entries alone that some after
 * its place were trimmed before it read them: the numbers jump. Before this,
 * a host asked XINFO after every read, a round trip each time that cost a
 * third of a busy primary's CPU and held up the next read.
 */
import type { SessionChanges } from '../../ipc/messages.js';
import { checkChanges } from '../validate.js';
import type { Client } from './client.js';

/**
 * Appends one entry, numbered one past the newest (1 in a new log, or after
 * an entry without a number, which no shoal host writes).
 * KEYS[1] the log   ARGV[1] MAXLEN (~)   ARGV[2] host id   ARGV[3] changes (JSON)
 * Returns the entry's number. string.format keeps it an integer in text
 * (Lua prints large numbers as 1e+14).
 */
export const LOG_SCRIPT = `
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
local n = 0
if last[1] then
  local f = last[1][2]
  for i = 1, #f - 1, 2 do
    if f[i] == 'n' then n = tonumber(f[i + 1]) or 0 end
  end
end
n = n + 1
redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'n', string.format('%d', n), 'h', ARGV[2], 'c', ARGV[3])
return n
`;

export class LogPlace {
  /** The last entry read; '$' before we have a place. */
  id = '$';
  /** Its number. */
  n = 0;
  /** Bumped whenever the place is reset: a read begun before that is stale. */
  gen = 0;

  constructor(readonly key: string) {}

  get known(): boolean { return this.id !== '$'; }

  /**
   * Moves past one entry just read. False when it is not the one after our
   * place: entries between were trimmed before we read them, or the log
   * started over (its key deleted). An entry without a number is not ours
   * and moves only the id.
   */
  advance(id: string, n: number | undefined): boolean {
    this.id = id;
    if (n === undefined) return true;
    const next = n === this.n + 1;
    this.n = n;
    return next;
  }

  /** No place: the next sync reads every session (a catch-up that failed half-way). */
  forget(): void {
    this.id = '$';
    this.n = 0;
    this.gen++;
  }

  /** Our place becomes the log's newest entry. */
  async reset(c: Client): Promise<void> {
    const [, newest] = await this.#ends(c);
    this.id = newest?.id ?? '0-0';
    this.n = newest?.n ?? 0;
    this.gen++;
  }

  /**
   * True when entries after our place (number n) were trimmed before we
   * read them (the oldest entry held is numbered past n + 1), or the log
   * started over (its newest entry is numbered below n). Asked on a
   * reconnect, before reading on: an entry past n that is gone was missed.
   */
  async behind(c: Client): Promise<boolean> {
    const n = this.n;
    if (!this.known) return true;
    const [oldest, newest] = await this.#ends(c);
    if (newest === undefined) return n > 0; // gone since we read entry n: it started over
    if (oldest?.n === undefined || newest.n === undefined) return false; // entries not ours: nothing to tell by
    return oldest.n > n + 1 || newest.n < n;
  }

  /** The oldest and the newest entry (id and number), undefined for an empty or missing log. */
  async #ends(c: Client): Promise<[End | undefined, End | undefined]> {
    const [first, last] = await Promise.all([c.xrange(this.key, '-', '+', 'COUNT', 1), c.xrevrange(this.key, '+', '-', 'COUNT', 1)]);
    const end = (e: [string, string[]] | undefined): End | undefined => (e === undefined ? undefined : { id: e[0], n: entryNumber(e[1]) });
    return [end(first[0]), end(last[0])];
  }
}

interface End { readonly id: string; readonly n: number | undefined }

/** An entry's number; undefined when it has none (not written by LOG_SCRIPT). */
export function entryNumber(fields: string[]): number | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i] === 'n') {
      const n = Number(fields[i + 1]);
      return Number.isSafeInteger(n) && n > 0 ? n : undefined;
    }
  }
  return undefined;
}

/**
 * What a log entry carries: another host's changes, nothing (our own entry,
 * or not one of ours), or a problem (malformed: to log and skip).
 */
export function parseEntry(fields: string[], self: string): { changes: SessionChanges } | { problem: string } | undefined {
  let host: string | undefined;
  let body: string | undefined;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i] === 'h') host = fields[i + 1];
    else if (fields[i] === 'c') body = fields[i + 1];
  }
  if (host === self || body === undefined) return undefined;
  let changes: unknown;
  try { changes = JSON.parse(body); } catch { changes = undefined; }
  const problem = checkChanges(changes);
  return problem === undefined ? { changes: changes as SessionChanges } : { problem };
}
