/**
 * The host list: each host keeps a key `<prefix>host:<id>` holding what it
 * says about itself (workers, load, sessions), renewed every heartbeat and
 * expiring hostTtlMs after the last renewal, so a host that disappears
 * leaves the list within that TTL (one that stops cleanly deletes its key).
 */
import { getMany, scanKeys, type Client } from './client.js';

/** A host's entry in the host list. */
export interface HostEntry { readonly host: string; readonly seenAt: number; readonly self: boolean; readonly [k: string]: unknown }

const hostKey = (prefix: string, hostId: string): string => `${prefix}host:${hostId}`;

/** Writes this host's entry, to expire after ttlMs unless renewed. */
export async function renewHost(cmd: Client, prefix: string, hostId: string, about: Record<string, unknown>, ttlMs: number): Promise<void> {
  const entry = { ...about, host: hostId, seenAt: Date.now() };
  await cmd.set(hostKey(prefix, hostId), JSON.stringify(entry), 'PX', ttlMs);
}

/** Takes this host off the list at once. */
export async function leaveHosts(cmd: Client, prefix: string, hostId: string): Promise<void> {
  await cmd.del(hostKey(prefix, hostId));
}

/** Every host whose entry is in Redis, by host id; `self` marks this one. */
export async function listHosts(cmd: Client, prefix: string, selfId: string, pageSize: number): Promise<HostEntry[]> {
  const keys: string[] = [];
  for await (const page of scanKeys(cmd, `${prefix}host:*`, pageSize)) keys.push(...page);
  if (keys.length === 0) return [];
  const values = await getMany(cmd, keys);
  const out: HostEntry[] = [];
  for (const v of values) {
    if (v === null) continue; // expired between SCAN and MGET
    try {
      const e = JSON.parse(v) as Record<string, unknown>;
      out.push({ ...e, host: String(e.host), seenAt: Number(e.seenAt), self: e.host === selfId });
    } catch { /* not ours */ }
  }
  return out.sort((a, b) => a.host.localeCompare(b.host));
}
