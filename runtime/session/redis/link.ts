/**
 * The primary's link to Redis, which carries sessions between hosts
 * (replicated mode: every host keeps its whole replica; Redis holds the
 * shared copy and the change log).
 *
 *   host A hub --pipeline: EVALSHA merge per session + XADD log--> Redis
 *   Redis log --XREAD BLOCK from the last id seen--> host B hub -> B's workers
 *
 * - One round trip per batch: a batch is everything this host changed in
 *   one turn of its event loop, merged per session (join), sent as one
 *   pipeline.
 * - The log is a stream trimmed to about streamMaxLen entries. A host
 *   resumes from the last id it read; one that fell behind the trimmed log,
 *   or that starts, reads every session instead (SCAN + HGETALL).
 * - Outages lose nothing: changes wait in a queue (change-queue.ts, joined
 *   per session) and go out when Redis is back. Past the queue's bound the queue is dropped
 *   and the host re-seeds Redis with its whole replica on return: the
 *   replica holds every change, so the queue is only a shortcut. Redis that
 *   comes back empty (restarted without persistence; an epoch key tells) is
 *   re-seeded the same way by every host.
 * Status changes in one place, logged `from -> to` (as ioredis does).
 */
import type { Logger } from 'pino';
import type { SessionChanges } from '../../ipc/messages.js';
import { randomNodeId } from '../hlc.js';
import type { Delta, SessionState } from '../model.js';
import { ChangeQueue } from './change-queue.js';
import { pushAll, readAll } from './bulk.js';
import { decodeHash } from './codec.js';
import { createClient, writeBatch, type Client } from './client.js';
import { leaveHosts, listHosts, renewHost, type HostEntry } from './membership.js';
import { entryNumber, LogPlace, parseEntry } from './log-place.js';
import { DEFAULT_REDIS_OPTIONS, type RedisLinkOptions, type RedisStatus } from './link-options.js';

export { DEFAULT_REDIS_OPTIONS, type RedisLinkOptions, type RedisStatus } from './link-options.js';
export type { HostEntry } from './membership.js';

export interface LinkHost {
  /** Sessions that came from other hosts (or from Redis on a resync): merge and pass on to the workers. */
  applyRemote(changes: SessionChanges): void;
  /** Every session this host holds, for a re-seed. */
  entries(): Iterable<[string, SessionState]>;
  /** Distributed mode, after a gap in the log: drop every cached session. */
  invalidate(): void;
  /** This host as the host list shows it (status --cluster): workers, load, sessions. */
  describe(): Record<string, unknown>;
}

export interface LinkStats {
  readonly status: RedisStatus;
  readonly queued: number;
  readonly queuedBytes: number;
  readonly overflows: number;
  readonly reseeds: number;
  readonly resyncs: number;
  readonly lastError: string | null;
}

export class RedisLink {
  readonly hostId: string;
  readonly #o: Required<Omit<RedisLinkOptions, 'url' | 'redisOptions'>> & Pick<RedisLinkOptions, 'redisOptions'>;
  readonly #host: LinkHost;
  readonly #log: Logger;
  readonly #cmd: Client;
  readonly #tail: Client;
  #status: RedisStatus = 'connecting';
  readonly #queue: ChangeQueue;
  #reseedOnReturn = false;
  #flushing = false;
  #flushTimer: NodeJS.Immediate | undefined;
  #epoch: string | undefined;
  readonly #place: LogPlace;
  /** The catch-up under way (a gap noticed while reading), which the log reads wait for. */
  #catchingUp: Promise<void> | undefined;
  #closed = false;
  #counts = { overflows: 0, reseeds: 0, resyncs: 0 };
  #lastError: string | null = null;
  #syncing: Promise<void> | undefined;
  /**
   * A request asked for a session this host lacks while Redis was away, and
   * went on without it (keeping the id: see manager.ts): what it wrote is a
   * part of that session only, so every copy is read again on return.
   */
  #missedWhileDown = false;
  #heartbeat: NodeJS.Timeout | undefined;

  constructor(opts: RedisLinkOptions, host: LinkHost, log: Logger) {
    this.#o = { ...DEFAULT_REDIS_OPTIONS, ...opts };
    this.#host = host;
    this.#log = log.child({ redis: 'sessions' });
    this.hostId = randomNodeId('h');
    this.#place = new LogPlace(`${this.#o.prefix}log`);
    this.#queue = new ChangeQueue(this.#o);
    const common = {
      ...opts.redisOptions,
      lazyConnect: true,
      // Our queue holds changes while Redis is away; ioredis's own would hold them without bound.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      retryStrategy: (attempt: number) => Math.min(this.#o.retryBaseMs * 2 ** Math.min(attempt - 1, 10), this.#o.retryMaxMs),
    };
    // Named, so that CLIENT LIST on the Redis side tells which host (and which of its two connections) is which.
    this.#cmd = createClient(opts.url, this.#o.cluster, { ...common, connectionName: `shoal:${this.hostId}:cmd` });
    this.#tail = createClient(opts.url, this.#o.cluster, { ...common, connectionName: `shoal:${this.hostId}:log` });
    this.#cmd.on('ready', () => { this.#syncing = this.#onReady(); });
    this.#cmd.on('error', (e: Error) => { this.#lastError = e.message; });
    this.#tail.on('error', () => { /* the command connection reports */ });
    this.#cmd.on('close', () => { if (!this.#closed) this.#setStatus('down'); });
  }

  get status(): RedisStatus { return this.#status; }

  stats(): LinkStats {
    return { status: this.#status, queued: this.#queue.depth, queuedBytes: this.#queue.bytes, ...this.#counts, lastError: this.#lastError };
  }

  /** Connects both connections; resolves once the first sync is done or Redis is found down (the host serves either way). */
  async start(): Promise<void> {
    await Promise.allSettled([this.#cmd.connect(), this.#tail.connect()]);
    await this.#syncing;
    if (this.#status !== 'ready') this.#setStatus('down');
    void this.#tailLoop();
    this.#heartbeat = setInterval(() => { void this.#beat(); }, this.#o.heartbeatMs);
    this.#heartbeat.unref();
    await this.#beat();
  }

  /** Every host whose heartbeat is in Redis (this one included), by host id. */
  async hosts(): Promise<HostEntry[]> {
    if (this.#status !== 'ready') return [];
    return listHosts(this.#cmd, this.#o.prefix, this.hostId, this.#o.batchSize);
  }

  /** Renews this host's entry; it expires hostTtlMs after the last renewal. */
  async #beat(): Promise<void> {
    if (this.#status !== 'ready') return;
    try {
      await renewHost(this.#cmd, this.#o.prefix, this.hostId, this.#host.describe(), this.#o.hostTtlMs);
    } catch (e) {
      this.#lastError = (e as Error).message;
    }
  }

  /** One session as Redis holds it (read-through); undefined if absent. Rejects when Redis is not ready: nobody can tell then. */
  async load(id: string): Promise<SessionState | undefined> {
    if (this.#status !== 'ready') {
      this.#missedWhileDown = true;
      throw new Error(`redis is ${this.#status}`);
    }
    return decodeHash(await this.#cmd.hgetall(`${this.#o.prefix}s:${id}`));
  }

  /** This host's changes to `id` that Redis may not have yet (queued or being written). */
  pending(id: string): Delta | undefined {
    return this.#queue.pending(id);
  }

  /**
   * This host's changes (already merged locally): queue them for Redis.
   * Resolves once they are written, or at once while Redis is down, or after
   * writeWaitMs: the caller may hold a response until then, never longer.
   */
  publish(changes: SessionChanges): Promise<void> {
    if (this.#reseedOnReturn) return Promise.resolve(); // the re-seed will carry them
    if (!this.#queue.add(changes)) {
      this.#counts.overflows++;
      this.#log.warn({ queued: this.#queue.size, bytes: this.#queue.bytes }, 'redis change queue full: dropping it; this host will re-seed Redis with its sessions when Redis is back');
      this.#queue.clear();
      this.#reseedOnReturn = true;
      return Promise.resolve();
    }
    if (this.#status !== 'ready') return Promise.resolve();
    this.#flushTimer ??= setImmediate(() => { this.#flushTimer = undefined; void this.#flush(); });
    return this.#queue.wait(this.#o.writeWaitMs);
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#flushTimer) clearImmediate(this.#flushTimer);
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    if (this.#status === 'ready' && this.#queue.size > 0) await this.#flush().catch(() => {});
    // Leave the host list at once rather than after the TTL.
    if (this.#status === 'ready') await leaveHosts(this.#cmd, this.#o.prefix, this.hostId).catch(() => {});
    this.#setStatus('closed');
    this.#tail.disconnect();
    await this.#cmd.quit().catch(() => this.#cmd.disconnect());
  }

  #setStatus(to: RedisStatus): void {
    const from = this.#status;
    if (from === to || from === 'closed') return;
    this.#status = to;
    if (to !== 'ready') this.#queue.release();
    const level = to === 'down' ? 'warn' : 'info';
    this.#log[level]({ from, to, ...(to === 'down' && this.#lastError ? { err: this.#lastError } : {}) }, `redis ${from} -> ${to}`);
  }

  /** (Re)connected: check whether Redis lost its data, catch up, then send what waited. */
  async #onReady(): Promise<void> {
    const missed = this.#missedWhileDown;
    this.#missedWhileDown = false;
    try {
      const epochKey = `${this.#o.prefix}epoch`;
      await this.#cmd.set(epochKey, randomNodeId('e'), 'NX');
      const epoch = (await this.#cmd.get(epochKey)) ?? undefined;
      const lost = this.#epoch !== undefined && epoch !== this.#epoch;
      const first = this.#epoch === undefined;
      this.#epoch = epoch;
      if (lost) this.#log.warn('redis lost its data (restarted empty): re-seeding it with this host\'s sessions');
      if (lost || this.#reseedOnReturn) await this.#reseed();
      if (first || lost || missed || (await this.#place.behind(this.#cmd))) {
        if (this.#o.mode === 'replicated') await this.#resync();
        else {
          // Redis is the store of record: what this host cached may be stale, so read it again on demand.
          await this.#place.reset(this.#cmd);
          if (!first) this.#host.invalidate();
          this.#counts.resyncs++;
        }
      }
      this.#setStatus('ready');
      await this.#flush();
    } catch (e) {
      if (missed) this.#missedWhileDown = true;
      this.#lastError = (e as Error).message;
      this.#log.warn({ err: this.#lastError }, 'redis sync failed; retrying on the next connection');
    }
  }

  /** Sends the queue as one pipeline; on failure puts it back (joined with what came meanwhile). */
  async #flush(): Promise<void> {
    if (this.#flushing || this.#queue.size === 0 || this.#status !== 'ready') return;
    this.#flushing = true;
    const { batch, settle } = this.#queue.take();
    let failed = false;
    try {
      await this.#write([...batch]);
    } catch (e) {
      failed = true;
      this.#lastError = (e as Error).message;
    } finally {
      this.#flushing = false;
      settle(!failed);
    }
    if (this.#queue.size === 0 || this.#status !== 'ready') return;
    // A write Redis refused (out of memory, say) while connected is retried after a pause, not in a tight loop.
    if (failed) setTimeout(() => { void this.#flush(); }, this.#o.retryBaseMs).unref();
    else this.#flushTimer ??= setImmediate(() => { this.#flushTimer = undefined; void this.#flush(); });
  }

  /** A merge per session, then the log entry other hosts read: one pipeline (one per node on a cluster). */
  #write(changes: SessionChanges): Promise<void> {
    return writeBatch(this.#cmd, changes, { ...this.#o, hostId: this.hostId });
  }

  /** Pushes every session this host holds (after Redis lost its data, or after the queue overflowed). */
  async #reseed(): Promise<void> {
    await pushAll(this.#host.entries(), this.#o.batchSize, (slice) => this.#write(slice));
    this.#reseedOnReturn = false;
    this.#counts.reseeds++;
  }

  /** Reads every session in Redis (start-up, or a log gap): merge is idempotent, so overlap with the log is harmless. */
  async #resync(): Promise<void> {
    // The log position first: anything written during the scan is then read from the log as well.
    await this.#place.reset(this.#cmd);
    await readAll(this.#cmd, this.#o, (changes) => this.#host.applyRemote(changes), this.#log);
    this.#counts.resyncs++;
  }

  /**
   * A gap noticed while reading: catch up as on a reconnect (once at a
   * time). One that fails leaves the place unknown, so that it is tried
   * again (by the log loop, or by the reconnect), never skipped.
   */
  #catchUp(): Promise<void> {
    this.#catchingUp ??= (async () => {
      try {
        this.#log.warn('this host fell behind the redis change log (entries trimmed before it read them): reading sessions again');
        if (this.#o.mode === 'replicated') await this.#resync();
        else { await this.#place.reset(this.#cmd); this.#host.invalidate(); this.#counts.resyncs++; }
      } catch (e) {
        this.#place.forget();
        this.#lastError = (e as Error).message;
      } finally {
        this.#catchingUp = undefined;
      }
    })();
    return this.#catchingUp;
  }

  /** Reads the log from our position, applying other hosts' changes; waits out outages. */
  async #tailLoop(): Promise<void> {
    while (!this.#closed) {
      const place = this.#place;
      if (this.#catchingUp) { await this.#catchingUp; continue; }
      if (this.#status !== 'ready') { await waitMs(this.#o.retryBaseMs); continue; }
      if (!place.known) {
        // A catch-up failed (a reconnect, if Redis went away, covers it instead).
        await waitMs(this.#o.retryBaseMs);
        if (this.#status === 'ready' && !place.known) await this.#catchUp();
        continue;
      }
      try {
        const gen = place.gen;
        const res = await this.#tail.xread('COUNT', this.#o.batchSize, 'BLOCK', this.#o.blockMs, 'STREAMS', place.key, place.id);
        // Dropped, our place unmoved: entries read from a place a resync has since replaced (it
        // covered them), or while a catch-up or a reconnect is under way (ioredis retries a read
        // cut by the disconnect; the reconnect decides whether to resume or read everything).
        if (!res || this.#catchingUp || gen !== place.gen || this.#status !== 'ready') continue;
        // A number out of step means entries after our place were trimmed before we read them:
        // catch up (the next read waits for it). Merging is idempotent, so applying this batch
        // first does no harm.
        let gap = false;
        for (const [, entries] of res) {
          for (const [id, fields] of entries) {
            if (!place.advance(id, entryNumber(fields))) gap = true;
            this.#applyEntry(fields);
          }
        }
        if (gap && gen === place.gen) void this.#catchUp();
      } catch (e) {
        if (!this.#closed) { this.#lastError = (e as Error).message; await waitMs(this.#o.retryBaseMs); }
      }
    }
  }

  #applyEntry(fields: string[]): void {
    const entry = parseEntry(fields, this.hostId);
    if (entry === undefined) return;
    if ('problem' in entry) this.#log.warn({ problem: entry.problem }, 'skipped a malformed entry in the redis change log');
    else this.#host.applyRemote(entry.changes);
  }
}

const waitMs = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
