/**
 * How many connections a worker may hold before it runs out of file
 * descriptors. At EMFILE libuv's accept path accepts and closes every
 * connection waiting in the queue (its "emfile trick"), so in kernel accept
 * a worker that reached its limit would reset connections the other workers
 * could serve. A worker therefore stops taking connections a reserve below
 * its soft limit (nginx stops at 7/8 of its worker_connections likewise);
 * the reserve leaves room for the app's own files, sockets and pools.
 */
import fs from 'node:fs';

/** The soft RLIMIT_NOFILE of this process, from /proc (Linux); undefined where it cannot be read. */
export function openFileLimit(limits = '/proc/self/limits'): number | undefined {
  let text: string;
  try { text = fs.readFileSync(limits, 'utf8'); } catch { return undefined; }
  const m = /^Max open files\s+(\d+|unlimited)/m.exec(text);
  if (!m || m[1] === 'unlimited') return undefined;
  return Number(m[1]);
}

/** Connections a worker takes at most with `limit` descriptors: an eighth (at least 32) kept for everything else. */
export function connectionBudget(limit: number | undefined): number | undefined {
  if (limit === undefined) return undefined;
  return Math.max(1, limit - Math.max(32, Math.floor(limit / 8)));
}
