/**
 * A host's place in the Redis change log (a stream), and what an entry of
 * it says. Kept apart from link.ts, which decides what to do with both.
 *
 * Stream ids are not contiguous, so a place is also a count: how many
 * entries the log had ever received (XINFO entries-added) when it held our
 * last entry. That count is what tells whether entries after our place
 * were trimmed before we read them.
 */
import type { SessionChanges } from '../../ipc/messages.js';
import { checkChanges } from '../validate.js';
import type { Client } from './client.js';

interface LogInfo { readonly lastId: string; readonly added: number; readonly length: number }

export class LogPlace {
  /** The last entry read; '$' before we have a place. */
  id = '$';
  ordinal = 0;
  /** Bumped whenever the place is reset: a read begun before that is stale. */
  gen = 0;

  constructor(readonly key: string) {}

  get known(): boolean { return this.id !== '$'; }

  /** Moves past one entry just read. */
  advance(id: string): void {
    this.id = id;
    this.ordinal++;
  }

  /** Our place becomes the log's current end. */
  async reset(c: Client): Promise<void> {
    const info = await this.#info(c);
    this.id = info.lastId;
    this.ordinal = info.added;
    this.gen++;
  }

  /**
   * True when entries after `ordinal` (by default our place) were trimmed
   * before we read them: the oldest entry still held is number
   * added - length + 1. Trimming just after a read can make it say yes
   * when nothing was missed: the caller then reads every session again,
   * which is safe, only slower.
   */
  async behind(c: Client, ordinal = this.ordinal): Promise<boolean> {
    if (!this.known) return true;
    const info = await this.#info(c);
    return info.added - info.length + 1 > ordinal + 1;
  }

  async #info(c: Client): Promise<LogInfo> {
    let raw: unknown[];
    try {
      raw = (await c.xinfo('STREAM', this.key)) as unknown[];
    } catch (e) {
      if (/no such key/i.test((e as Error).message)) return { lastId: '0-0', added: 0, length: 0 };
      throw e;
    }
    const field = (name: string): unknown => raw[raw.indexOf(name) + 1];
    return { lastId: String(field('last-generated-id') ?? '0-0'), added: Number(field('entries-added') ?? 0), length: Number(field('length') ?? 0) };
  }
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
