/**
 * The README's agent figures: what a host's HAProxy agent answers idle, and
 * with both of its workers kept busy (requests that block the event loop).
 * Run after `npm run build`:  node --import tsx scripts/agent-weight.ts
 */
import { agentLine } from '../test/helpers/agent.js';
import { freePort, startCluster } from '../test/helpers/cluster.js';
import { FLEET_APP } from '../test/helpers/fleet.js';
import { sleep } from '../test/helpers/http.js';
import { request } from '../test/helpers/load.js';

const WORKERS = 2;
const BURN_MS = 300;
/** Answers read in each state, one per HAProxy agent-inter of deploy/haproxy.cfg. */
const SAMPLES = 5;
const AGENT_INTER_MS = 1_000;
const REQUEST_TIMEOUT_MS = 10_000;

const agent = await freePort();
const host = await startCluster(FLEET_APP, { workers: WORKERS, extraArgs: ['--agent', String(agent)] });
const read = async (): Promise<string[]> => {
  const out: string[] = [];
  for (let i = 0; i < SAMPLES; i++) { await sleep(AGENT_INTER_MS); out.push((await agentLine(agent)).trim()); }
  return out;
};
try {
  const idle = await read();
  let stop = false;
  const burners = Array.from({ length: WORKERS }, async () => {
    while (!stop) await request(host.port, `/burn?ms=${BURN_MS}`, false, REQUEST_TIMEOUT_MS);
  });
  const busy = await read();
  stop = true;
  await Promise.all(burners);
  process.stdout.write(`${JSON.stringify({ workers: WORKERS, idle, busy })}\n`);
} finally {
  await host.stop('SIGTERM');
}
