// Scenario e on a running contender: connections one after another, then a
// burst (spread-client.mjs counts who took each), with the server idle before
// each part so that the connections of the part before do not weigh on it.
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Waits until the server has no open connection. shoal says so
 * (`status --json`, the workers' connection counts); for the others there is
 * no such view, so a fixed wait stands in: loopback closes reach the server
 * at once, the wait covers its event loop getting to them.
 */
async function idle(status, o) {
  const t0 = Date.now();
  if (!status) {
    await sleep(o.fixedIdleMs);
    return { how: 'fixed', ms: Date.now() - t0 };
  }
  let open = null;
  while (Date.now() - t0 < o.pollIdleMs) {
    const doc = await status();
    open = doc ? doc.workers.reduce((n, w) => n + (w.connections ?? 0), 0) : null;
    if (open === 0) break;
    await sleep(100);
  }
  return { how: 'status', ms: Date.now() - t0, open };
}

/**
 * Runs both parts; `job` is the load generator, `status` (shoal only) reads
 * the contender's status. Every step is bounded: the idle poll by pollIdleMs,
 * each part by its deadline and per-connection timeout.
 */
export async function runSpread({ job, port, o, timeoutMs, readyAt, status }) {
  // Past shoal's slow start (new workers take a growing share over 2 s), for every contender alike.
  await sleep(Math.max(0, readyAt + o.afterReadyMs - Date.now()));
  const part = async (burst) => {
    const wait = await idle(status, o);
    const r = await job('spread', { port, count: o.count, burst, timeoutMs, deadlineMs: o.deadlineMs }, o.deadlineMs + timeoutMs + 15000);
    return { ...r, idleBefore: wait };
  };
  const one = await part(false);
  const burst = await part(true);
  return { workers: o.workers, one, burst, ok: one.ok + burst.ok };
}
