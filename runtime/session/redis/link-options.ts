/**
 * Options of the Redis link (./link.ts) and their defaults, each named so a
 * test or an operator can see what bounds what.
 */
import type { RedisOptions } from 'ioredis';

/** connecting -> ready <-> down -> closed */
export type RedisStatus = 'connecting' | 'ready' | 'down' | 'closed';

export interface RedisLinkOptions {
  /** redis:// or rediss:// (TLS) URL; a password in it never reaches logs or status. */
  readonly url: string;
  /** Extra ioredis options (from the config file): TLS, Sentinel, … */
  readonly redisOptions?: RedisOptions;
  /**
   * replicated: every host holds every session (a host that starts, or
   * missed changes, reads them all). distributed: Redis is the store of
   * record; hosts cache what they use (a gap drops the caches instead).
   */
  readonly mode?: 'replicated' | 'distributed';
  /** The URL names a seed node of a Redis Cluster (ioredis discovers the rest). */
  readonly cluster?: boolean;
  /** Every key starts with this. */
  readonly prefix?: string;
  /** Sessions with changes waiting while Redis is away; beyond, the queue is dropped and the host re-seeds Redis on return. */
  readonly queueMax?: number;
  readonly queueMaxBytes?: number;
  /** The change log keeps about this many entries (XADD MAXLEN ~). */
  readonly streamMaxLen?: number;
  /** A session hash outlives its expiry by this much (deleted attributes must not come back from a late write). */
  readonly retentionMs?: number;
  /** TTL of a session hash that has no expiry yet. */
  readonly fallbackTtlMs?: number;
  /** Sessions per pipeline in a re-seed or resync, entries per log read. */
  readonly batchSize?: number;
  /** How long one log read blocks waiting for new entries. */
  readonly blockMs?: number;
  /**
   * How long a response that changed a session may wait for the change to
   * be in Redis (the cross-host read-your-writes guarantee); past it, or
   * while Redis is down, the response goes out and the change follows.
   */
  readonly writeWaitMs?: number;
  /** How often this host renews its entry in the host list (status --cluster). */
  readonly heartbeatMs?: number;
  /** A host whose entry was not renewed for this long leaves the list (it stopped, or lost Redis). */
  readonly hostTtlMs?: number;
  /** A full read of the sessions in Redis logs how far it got this often. */
  readonly progressMs?: number;
  /** Reconnect backoff: first delay, doubling up to the max. */
  readonly retryBaseMs?: number;
  readonly retryMaxMs?: number;
}

export const DEFAULT_REDIS_OPTIONS = {
  mode: 'replicated',
  cluster: false,
  prefix: 'shoal:',
  queueMax: 100_000,
  queueMaxBytes: 64 * 1024 * 1024,
  streamMaxLen: 100_000,
  retentionMs: 60 * 60_000,
  fallbackTtlMs: 30 * 60_000,
  batchSize: 500,
  blockMs: 1_000,
  writeWaitMs: 1_000,
  heartbeatMs: 1_000,
  hostTtlMs: 5_000,
  progressMs: 2_000,
  retryBaseMs: 100,
  retryMaxMs: 2_000,
} as const;

/** The URL with any password replaced, for logs and status. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparsable redis url)';
  }
}
