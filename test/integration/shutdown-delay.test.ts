/**
 * --shutdown-delay and the HAProxy agent against a real cluster: during the
 * delay the host keeps serving on its port while /readyz fails and the
 * agent answers drain; then it stops gracefully. A second signal ends the
 * delay. The agent answers a client that sends nothing, and one that
 * sends a line.
 */
import net from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { agentLine } from '../helpers/agent.js';
import { clusterStatus, FIXTURES, runCli, freePort, startCluster, type Cluster } from '../helpers/cluster.js';
import { request } from '../helpers/load.js';

const APP = path.join(FIXTURES, 'http-esm.mjs');
/** Long enough to look at the host several times during it, short for a test. */
const DELAY_MS = 2_000;
const REQUEST_TIMEOUT_MS = 5_000;

let cluster: Cluster | undefined;
afterEach(async () => { await cluster?.stop('SIGKILL'); cluster = undefined; });

async function start(extra: string[] = []): Promise<{ c: Cluster; admin: number; agent: number }> {
  const [admin, agent] = [await freePort(), await freePort()];
  const c = await startCluster(APP, { workers: 2, extraArgs: ['--admin', `127.0.0.1:${admin}`, '--agent', String(agent), '--shutdown-delay', String(DELAY_MS), ...extra] });
  cluster = c;
  return { c, admin, agent };
}

describe('shutdown delay', () => {
  it('fails /readyz and answers drain while serving for the delay, then stops', async () => {
    const { c, admin, agent } = await start();
    expect(await agentLine(agent)).toMatch(/^up ready (\d+)%\n$/);
    expect((await clusterStatus(c)).primary.agent).toEqual({ address: `127.0.0.1:${agent}`, answer: expect.stringMatching(/^up ready \d+%$/) });
    expect((await request(admin, '/readyz', false, REQUEST_TIMEOUT_MS)).status).toBe(200);
    const t0 = Date.now();
    c.proc.kill('SIGTERM');
    await c.waitForLog((l) => l.msg === 'shutdown: serving -> delaying');
    const ready = await request(admin, '/readyz?verbose', false, REQUEST_TIMEOUT_MS);
    expect(ready.status).toBe(503);
    expect(ready.body).toMatch(/^not ready: stopping in \ds \(shutdown delay; still serving\)/);
    expect(await agentLine(agent)).toBe('drain\n');
    const status = await clusterStatus(c);
    expect(status.primary.stoppingInMs as number).toBeGreaterThan(0);
    expect(status.primary.agent).toEqual({ address: `127.0.0.1:${agent}`, answer: 'drain' });
    const table = await runCli(['status', '--name', `test-${c.port}`]);
    expect(table.stdout).toContain(`agent 127.0.0.1:${agent} (drain)`);
    // Still serving, on new connections too, until the delay is over.
    for (let i = 0; i < 5; i++) expect((await request(c.port, '/', false, REQUEST_TIMEOUT_MS)).status).toBe(200);
    expect(Date.now() - t0).toBeLessThan(DELAY_MS);
    const exit = await c.exited;
    expect(exit.code).toBe(0);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(DELAY_MS);
    const over = c.logs.find((l) => l.msg === 'shutdown: delaying -> stopping');
    expect(over?.reason).toBe('shutdown delay over');
  });

  it('a second SIGTERM ends the delay and the graceful stop follows', async () => {
    const { c } = await start(['--shutdown-delay', '60000']);
    c.proc.kill('SIGTERM');
    await c.waitForLog((l) => l.msg === 'shutdown: serving -> delaying');
    c.proc.kill('SIGTERM');
    const exit = await c.exited;
    expect(exit.code).toBe(0);
    expect(c.logs.find((l) => l.msg === 'shutdown: delaying -> stopping')?.reason).toBe('SIGTERM: shutdown delay skipped');
    expect(c.logs.some((l) => l.msg === 'stopped')).toBe(true);
  });
});

describe('agent', () => {
  it('answers at once and closes, whether the client sends a line or nothing', async () => {
    const { agent } = await start();
    expect(await agentLine(agent)).toMatch(/^up ready \d+%\n$/);
    const sent = await new Promise<string>((resolve, reject) => {
      const s = net.connect(agent, '127.0.0.1', () => s.write('hello from agent-send\n'));
      let d = '';
      s.setEncoding('utf8').on('data', (x: string) => { d += x; }).on('end', () => resolve(d)).on('error', reject);
    });
    expect(sent).toMatch(/^up ready \d+%\n$/);
  });

  it('a taken agent port is a usage error naming it', async () => {
    const taken = net.createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    const port = (taken.address() as net.AddressInfo).port;
    try {
      const c = await startCluster(APP, { workers: 1, extraArgs: ['--agent', String(port)], waitReady: false });
      cluster = c;
      expect((await c.exited).code).toBe(2);
      expect(c.stderr()).toMatch(new RegExp(`cannot serve the HAProxy agent on 127.0.0.1:${port}: the port is already in use`));
    } finally { taken.close(); }
  });
});
