/**
 * End to end with real parts: HAProxy (deploy/haproxy.cfg itself, `retries
 * 0`) in front of two shoal hosts that share sessions through a real Redis.
 *
 *   clients --> haproxy :P --> host1 :p1 (admin, agent) --+
 *                          \-> host2 :p2 (admin, agent) --+--> redis
 *
 * A rolling restart of both hosts under load fails no request and loses no
 * session write; a busy host answers a lower weight, which HAProxy applies;
 * a stopping host is drained by HAProxy while its port still serves.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { agentLine, weightOf } from '../helpers/agent.js';
import { startFleet, sessionLoad, type Fleet } from '../helpers/fleet.js';
import { cfgTiming } from '../helpers/haproxy.js';
import { waitFor } from '../helpers/http.js';
import { request } from '../helpers/load.js';

/** Longer than agent-inter (drain seen) and inter * fall (/readyz seen) of deploy/haproxy.cfg, with margin. */
const SHUTDOWN_DELAY_MS = 3_000;
const CLIENTS = 4;
const WORKERS = 2;
/** Burning requests kept in flight on the busy host: one per worker, each blocking its loop this long. */
const BURN_MS = 300;
const WEIGHT_TIMEOUT_MS = 15_000;
const REQUEST_TIMEOUT_MS = 10_000;

let fleet: Fleet | undefined;
afterEach(async () => { await fleet?.close(); fleet = undefined; });

describe('HAProxy in front of two shoal hosts', () => {
  it('the shutdown delay covers what HAProxy needs to see a host go', () => {
    expect(SHUTDOWN_DELAY_MS).toBeGreaterThan(cfgTiming('agent-inter'));
    expect(SHUTDOWN_DELAY_MS).toBeGreaterThan(cfgTiming('inter') * cfgTiming('fall'));
  });

  it('a rolling restart of both hosts under load fails no request and loses no session write', async () => {
    fleet = await startFleet({ shutdownDelayMs: SHUTDOWN_DELAY_MS, workers: WORKERS });
    const f = fleet;
    let done!: () => void;
    const load = sessionLoad(f.haproxy.port, CLIENTS, new Promise<void>((r) => { done = r; }));
    await f.restart(0);
    await f.restart(1);
    done();
    const r = await load;
    expect(r.failed, r.errors.join('\n')).toBe(0);
    expect(r.lost).toBe(0);
    expect(r.ok).toBeGreaterThan(100);
    // Both hosts served (before, between and after the restarts).
    expect([...r.byPort.keys()].sort()).toEqual(f.specs.map((s) => s.port).sort());
  });

  it('a busy host answers a lower weight than an idle one, and HAProxy applies it', async () => {
    fleet = await startFleet({ shutdownDelayMs: SHUTDOWN_DELAY_MS, workers: WORKERS });
    const f = fleet;
    const [busy, idle] = f.specs;
    let stop = false;
    // Straight to host1, not through HAProxy: keeps both of its event loops blocked.
    const burners = Array.from({ length: WORKERS }, async () => {
      while (!stop) await request(busy!.port, `/burn?ms=${BURN_MS}`, false, REQUEST_TIMEOUT_MS);
    });
    try {
      let seen = { busy: 100, idle: 0 };
      await waitFor(async () => {
        seen = { busy: weightOf(await agentLine(busy!.agent)) ?? 100, idle: weightOf(await agentLine(idle!.agent)) ?? 0 };
        return seen.busy < seen.idle / 2;
      }, WEIGHT_TIMEOUT_MS, 'the busy host answering a lower weight');
      expect(seen.busy).toBeLessThan(seen.idle);
      await waitFor(async () => {
        const s = await f.haproxy.servers();
        return s.get(busy!.name)!.weight < s.get(idle!.name)!.weight / 2;
      }, WEIGHT_TIMEOUT_MS, 'haproxy giving the busy host a lower weight');
    } finally {
      stop = true;
      await Promise.all(burners);
    }
  });

  it('a host with --shutdown-delay is drained by HAProxy before its port closes', async () => {
    fleet = await startFleet({ shutdownDelayMs: SHUTDOWN_DELAY_MS, workers: WORKERS });
    const f = fleet;
    const host = f.hosts[0]!;
    const spec = f.specs[0]!;
    host.proc.kill('SIGTERM');
    // DRAIN from the agent's answer (or DOWN from /readyz failing fall times, whichever HAProxy sees first).
    const drained = (status: string): boolean => /^(DRAIN|DOWN|NOLB|MAINT)/.test(status);
    await waitFor(async () => drained((await f.haproxy.servers()).get(spec.name)!.status), SHUTDOWN_DELAY_MS, 'haproxy draining the host');
    // Drained, and the port still serves: nothing sent to it now can be refused.
    expect(host.proc.exitCode).toBeNull();
    expect((await request(spec.port, '/visits', false, REQUEST_TIMEOUT_MS)).status).toBe(200);
    expect(host.logs.some((l) => l.msg === 'stopping')).toBe(false);
    expect((await host.exited).code).toBe(0);
  });
});
