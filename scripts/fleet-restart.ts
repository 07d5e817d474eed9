/**
 * The README's "Running many hosts" figures: a rolling restart of two shoal
 * hosts behind HAProxy (deploy/haproxy.cfg, retries 0), sessions shared
 * through Redis, under session-writing load, with and without
 * --shutdown-delay. Needs haproxy and redis-server; run after `npm run build`:
 *
 *   node --import tsx scripts/fleet-restart.ts [rounds]
 */
import { startFleet, sessionLoad } from '../test/helpers/fleet.js';

/** The clients writing their sessions through HAProxy during the restarts. */
const CLIENTS = 4;
const WORKERS = 2;
/** With the delay: longer than deploy/haproxy.cfg's agent-inter and inter * fall. */
const DELAYS_MS = [0, 3_000];

const rounds = Number(process.argv[2] ?? 1);
for (const delay of DELAYS_MS) {
  for (let round = 1; round <= rounds; round++) {
    const fleet = await startFleet({ shutdownDelayMs: delay, workers: WORKERS });
    try {
      let done!: () => void;
      const t0 = Date.now();
      const load = sessionLoad(fleet.haproxy.port, CLIENTS, new Promise<void>((r) => { done = r; }));
      await fleet.restart(0);
      await fleet.restart(1);
      done();
      const r = await load;
      process.stdout.write(`${JSON.stringify({ shutdownDelayMs: delay, round, requests: r.ok + r.failed, failed: r.failed, lostWrites: r.lost, seconds: Math.round((Date.now() - t0) / 100) / 10, firstErrors: r.errors.slice(0, 3) })}\n`);
    } finally {
      await fleet.close();
    }
  }
}
