/**
 * The Redis connections of the link, for a single server (or Sentinel) and
 * for a Redis Cluster, behind the few operations the link needs, so that
 * link.ts does not care which it talks to.
 *
 * Cluster differences handled here:
 * - a pipeline may only hold keys of one node: a batch goes out as single
 *   commands with ioredis auto-pipelining, which groups them per node (one
 *   round trip per node a batch touches), the log entry after the merges;
 * - SCAN runs on every master;
 * - MGET across slots is refused: GETs, auto-pipelined.
 * The merge and log scripts are defined commands (EVALSHA, EVAL on
 * NOSCRIPT), so a node that restarted, or a new one, gets them on first use.
 */
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { SessionChanges } from '../../ipc/messages.js';
import { encodeDelta } from './codec.js';
import { LOG_SCRIPT } from './log-place.js';
import { MERGE_SCRIPT } from './merge-script.js';

export type Client = Redis | Cluster;

/** What the merge script needs besides the delta. */
export interface WriteSettings {
  readonly prefix: string;
  readonly retentionMs: number;
  readonly fallbackTtlMs: number;
  readonly streamMaxLen: number;
  readonly hostId: string;
}

interface WithScripts {
  shoalMerge(key: string, ...args: string[]): Promise<unknown>;
  shoalLog(key: string, maxLen: string, host: string, body: string): Promise<unknown>;
}

export function createClient(url: string, cluster: boolean, opts: RedisOptions): Client {
  const define = (c: Client): Client => {
    c.defineCommand('shoalMerge', { numberOfKeys: 1, lua: MERGE_SCRIPT });
    c.defineCommand('shoalLog', { numberOfKeys: 1, lua: LOG_SCRIPT });
    return c;
  };
  if (!cluster) return define(new Redis(url, opts));
  const u = new URL(url);
  const node = { host: u.hostname, port: Number(u.port || 6379) };
  const redisOptions: RedisOptions = {
    ...opts,
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.protocol === 'rediss:' ? { tls: opts.tls ?? {} } : {}),
  };
  const clusterOptions: ClusterOptions = {
    redisOptions,
    lazyConnect: true,
    enableOfflineQueue: false,
    enableAutoPipelining: true,
    ...(opts.retryStrategy ? { clusterRetryStrategy: (times: number) => opts.retryStrategy!(times) ?? null } : {}),
  };
  return define(new Cluster([node], clusterOptions));
}

const args = (d: SessionChanges[number][1], s: WriteSettings): string[] => {
  const [destroyed, touched, expires, ...pairs] = encodeDelta(d);
  return [destroyed!, touched!, expires!, String(s.retentionMs), String(s.fallbackTtlMs), ...pairs];
};

/** Merges every change and appends the log entry other hosts read; throws if any command failed. */
export async function writeBatch(c: Client, changes: SessionChanges, s: WriteSettings): Promise<void> {
  const log = [`${s.prefix}log`, String(s.streamMaxLen), s.hostId, JSON.stringify(changes)] as const;
  if (c instanceof Cluster) {
    const cs = c as unknown as WithScripts;
    await Promise.all(changes.map(([id, d]) => cs.shoalMerge(`${s.prefix}s:${id}`, ...args(d, s))));
    await cs.shoalLog(...log);
    return;
  }
  // One round trip: the merges, then the log entry, in one pipeline.
  const p = c.pipeline() as unknown as WithScripts & ReturnType<Redis['pipeline']>;
  for (const [id, d] of changes) p.shoalMerge(`${s.prefix}s:${id}`, ...args(d, s));
  p.shoalLog(...log);
  const results = (await p.exec()) ?? [];
  const failed = results.find(([err]) => err);
  if (failed) throw failed[0]!;
}

/** Every key matching `pattern`, in pages of about `count`, on every master of a cluster. */
export async function* scanKeys(c: Client, pattern: string, count: number): AsyncGenerator<string[]> {
  const nodes: Redis[] = c instanceof Cluster ? c.nodes('master') : [c];
  for (const n of nodes) {
    let cursor = '0';
    do {
      const [next, keys] = await n.scan(cursor, 'MATCH', pattern, 'COUNT', count);
      cursor = next;
      if (keys.length > 0) yield keys;
    } while (cursor !== '0');
  }
}

/** HGETALL of each key (one pipeline on a single server). */
export async function readHashes(c: Client, keys: string[]): Promise<Record<string, string>[]> {
  if (c instanceof Cluster) return Promise.all(keys.map((k) => c.hgetall(k)));
  const res = (await keys.reduce((p, k) => p.hgetall(k), c.pipeline()).exec()) ?? [];
  return res.map(([, v]) => (v ?? {}) as Record<string, string>);
}

/** GET of each key; null for a key that is gone. */
export function getMany(c: Client, keys: string[]): Promise<(string | null)[]> {
  if (c instanceof Cluster) return Promise.all(keys.map((k) => c.get(k)));
  return c.mget(...keys);
}
