/**
 * Unmodified apps written for a port of their own (issue 13 point 1): with
 * no port given, shoal serves the one the app asks for, with every worker,
 * as `node app.js` would; a second fixed port of the app (its own admin
 * server) is shared by every worker as under node:cluster; a port given to
 * shoal that the app does not listen on fails fast, naming both.
 */
import { afterEach, describe, expect, it } from 'vitest';
import net from 'node:net';
import path from 'node:path';
import { clusterStatus, FIXTURES, freePort, runCli, startCluster, type Cluster } from '../helpers/cluster.js';
import { request } from '../helpers/load.js';

const app = path.join(FIXTURES, 'own-port.mjs');
let cluster: Cluster | undefined;
afterEach(async () => { await cluster?.stop('SIGKILL'); cluster = undefined; });

const body = (r: { body: string }): { what: string; worker: string; port: number } => JSON.parse(r.body) as { what: string; worker: string; port: number };

/** Workers seen answering `n` requests on new connections (kernel accept spreads them, not evenly). */
async function seen(port: number, n: number): Promise<Set<string>> {
  const ws = new Set<string>();
  for (let i = 0; i < n; i++) ws.add(body(await request(port, '/', false, 5_000)).worker);
  return ws;
}

const portFree = (port: number): Promise<boolean> => new Promise((resolve) => {
  const s = net.createServer();
  s.once('error', () => resolve(false));
  s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
});

describe('an app on a port of its own', () => {
  it('no port given: shoal serves the port the app asks for with every worker; the app\'s admin port works on every worker too', async () => {
    const appPort = await freePort();
    const adminPort = await freePort();
    cluster = await startCluster(app, { port: appPort, noPort: true, workers: 2, env: { PORT: '', APP_PORT: String(appPort), ADMIN_PORT: String(adminPort) } });
    const c = cluster;
    expect(c.logs.find((l) => l.msg === 'serving the port the app listens on')).toMatchObject({ port: appPort });
    expect(c.logs.find((l) => l.msg === 'cluster ready')).toMatchObject({ port: appPort });
    const st = await clusterStatus(c);
    expect(st.primary.port).toBe(appPort);
    expect(st.workers.map((w) => w.state)).toEqual(['ready', 'ready']);
    const main = await request(appPort, '/', false, 5_000);
    expect(body(main)).toMatchObject({ what: 'main', port: appPort });
    expect(await seen(appPort, 40)).toEqual(new Set(['1', '2']));
    // The admin server: both workers listen on it (neither failed with EADDRINUSE) and it answers.
    expect(body(await request(adminPort, '/', false, 5_000))).toMatchObject({ what: 'admin', port: adminPort });
    expect((await clusterStatus(c)).workers.map((w) => w.restarts)).toEqual([0, 0]);
    expect(c.stderr()).not.toMatch(/EADDRINUSE/);
  });

  it('no port given and the app asks for none: shoal serves 3000', async () => {
    const free = await portFree(3000);
    if (!free) {
      // Something else holds 3000 here: then shoal must say so, as a usage error.
      const r = await runCli(['start', app, '-w', '1', '--host', '127.0.0.1', '--name', 'own-port-3000'], { env: { PORT: '', NO_PORT: '1' } });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/port 127\.0\.0\.1:3000 is already in use/);
      return;
    }
    cluster = await startCluster(app, { port: 3000, noPort: true, workers: 1, env: { PORT: '', NO_PORT: '1' } });
    expect(body(await request(3000, '/', false, 5_000))).toMatchObject({ what: 'main', port: 3000 });
  });

  it('a port given: the app on process.env.PORT is served, and its own admin port is shared by every worker', async () => {
    const adminPort = await freePort();
    cluster = await startCluster(app, { workers: 2, env: { APP_PORT: '1', ADMIN_PORT: String(adminPort) } });
    const c = cluster;
    expect(body(await request(c.port, '/', false, 5_000))).toMatchObject({ what: 'main', port: c.port });
    expect(body(await request(adminPort, '/', false, 5_000))).toMatchObject({ what: 'admin' });
    expect((await clusterStatus(c)).workers.map((w) => w.state)).toEqual(['ready', 'ready']);
    expect(c.stderr()).not.toMatch(/EADDRINUSE/);
  });

  it('a port given that the app does not listen on: a usage error within seconds, naming both ports and the fix', async () => {
    const appPort = await freePort();
    const given = await freePort();
    const t0 = Date.now();
    const r = await runCli(['start', app, '-w', '2', '--port', String(given), '--host', '127.0.0.1', '--name', `own-port-${given}`], { env: { PORT: '', APP_PORT: String(appPort), FIXED: '1' }, timeoutMs: 20_000 });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`the app listens on port ${appPort}, but shoal serves port ${given} (given by --port, PORT or the config file); make the app listen on process.env.PORT, or start shoal without a port`);
    expect(Date.now() - t0).toBeLessThan(8_000);
  });
});
