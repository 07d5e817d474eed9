/**
 * Out of file descriptors (issue 13 point 6): a cluster under a low
 * `ulimit -n`, flooded with idle keep-alive connections, keeps running (no
 * worker or primary crashes), takes what its descriptors allow, and serves
 * normally once the connections go away. In kernel accept a worker stops
 * accepting a reserve below its limit, so what it cannot take waits in the
 * kernel queue instead of being reset by libuv at EMFILE.
 */
import { afterEach, describe, expect, it } from 'vitest';
import net from 'node:net';
import path from 'node:path';
import { clusterStatus, FIXTURES, startCluster, type Cluster } from '../helpers/cluster.js';
import { request } from '../helpers/load.js';

const app = path.join(FIXTURES, 'blocking.mjs');
let cluster: Cluster | undefined;
afterEach(async () => { await cluster?.stop('SIGKILL'); cluster = undefined; });

/** The descriptor limit of the cluster's processes: low enough that a few hundred connections exhaust it. */
const LIMIT = 128;
const FLOOD = 400;

interface Flood { outcomes: Record<string, number>; sockets: net.Socket[] }

/** Opens `n` keep-alive connections at once, one request each; an outcome per connection within `waitMs`. */
async function flood(port: number, n: number, waitMs: number): Promise<Flood> {
  const outcomes: Record<string, number> = { served: 0, reset: 0, closed: 0, waiting: 0 };
  const sockets: net.Socket[] = [];
  await Promise.all(Array.from({ length: n }, () => new Promise<void>((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    sockets.push(s);
    let done = false;
    const end = (k: string): void => { if (!done) { done = true; clearTimeout(t); outcomes[k]!++; resolve(); } };
    const t = setTimeout(() => end('waiting'), waitMs);
    s.on('connect', () => s.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    s.on('data', () => end('served'));
    s.on('error', () => end('reset'));
    s.on('close', () => end('closed'));
  })));
  return { outcomes, sockets };
}

describe.each([['kernel', []], ['handoff', ['--accept', 'handoff']]] as const)('%s accept under ulimit -n ' + String(LIMIT), (mode, extraArgs) => {
  it(`a flood of ${FLOOD} idle connections: nothing crashes, and the cluster serves again once they close`, async () => {
    cluster = await startCluster(app, { workers: 2, via: ['sh', '-c', `ulimit -n ${LIMIT} && exec "$0" "$@"`], extraArgs: [...extraArgs] });
    const c = cluster;
    if (mode === 'kernel') await c.waitForLog((l) => l.msg?.startsWith('accept mode: kernel') === true);
    const f = await flood(c.port, FLOOD, 3_000);
    // Some were served (each worker up to its budget), none of it crashed anything.
    expect(f.outcomes.served).toBeGreaterThan(100);
    if (mode === 'kernel') {
      // Past their budget the workers sit out: the rest wait in the kernel queue, none is reset.
      expect(f.outcomes, JSON.stringify(f.outcomes)).toMatchObject({ reset: 0, closed: 0 });
    }
    const during = await clusterStatus(c);
    expect(during.workers.map((w) => w.state)).toEqual(['ready', 'ready']);
    for (const s of f.sockets) s.destroy();
    // Descriptors free again: served at once, by both workers in turn, with no restart.
    const after = await Promise.all(Array.from({ length: 20 }, () => request(c.port, '/', false, 5_000)));
    expect(after.map((r) => r.status)).toEqual(Array(20).fill(200));
    const st = await clusterStatus(c);
    expect(st.workers.map((w) => [w.state, w.restarts])).toEqual([['ready', 0], ['ready', 0]]);
    expect(c.proc.exitCode).toBeNull();
    expect(c.stderr()).not.toMatch(/EMFILE.*\n.*at /); // no stack trace of an uncaught EMFILE
  });
});
