/**
 * How connections spread over workers: open keep-alive connections (one
 * after another, or all at once), ask each which worker it landed on, keep
 * them open so the counts accumulate, and close them all at the end.
 */
import { openKeepAlive, type KeepAliveConn } from './http.js';

export interface Spread {
  /** Connections per worker id (from the app's JSON answer). */
  readonly counts: Map<string, number>;
  readonly conns: KeepAliveConn[];
  close(): void;
}

const workerOf = (c: KeepAliveConn): string => (JSON.parse(c.body) as { worker: string }).worker;

/** Opens `n` connections: `one-by-one` waits for each answer before the next, `burst` opens all at once. */
export async function spread(port: number, n: number, how: 'one-by-one' | 'burst', path = '/'): Promise<Spread> {
  const conns: KeepAliveConn[] = [];
  if (how === 'one-by-one') {
    for (let i = 0; i < n; i++) conns.push(await openKeepAlive(port, path));
  } else {
    conns.push(...(await Promise.all(Array.from({ length: n }, () => openKeepAlive(port, path)))));
  }
  const counts = new Map<string, number>();
  for (const c of conns) counts.set(workerOf(c), (counts.get(workerOf(c)) ?? 0) + 1);
  return { counts, conns, close: () => { for (const c of conns) c.socket.destroy(); } };
}

/** Adds the counts of `b` to those of `a` (a new map). */
export function addCounts(a: Map<string, number>, b: Map<string, number>): Map<string, number> {
  const out = new Map(a);
  for (const [k, v] of b) out.set(k, (out.get(k) ?? 0) + v);
  return out;
}

/** max/min over `workers` (a worker with none counts as 0, so the ratio is Infinity). */
export function imbalance(counts: Map<string, number>, workers: readonly string[]): number {
  const v = workers.map((w) => counts.get(w) ?? 0);
  return Math.max(...v) / Math.min(...v);
}
