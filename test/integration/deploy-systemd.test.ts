/**
 * deploy/systemd: the service's ExecStart, run the way systemd runs it on
 * the socket of shoal.socket (systemd-socket-activate from Debian's systemd
 * package binds it and passes it as fd 3 with LISTEN_PID/LISTEN_FDS), in both
 * accept modes; and a restart under load on a socket held across it (as
 * systemd holds it for a Restart=always service) fails no request.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { agentLine } from '../helpers/agent.js';
import { FIXTURES, freePort, onJsonLines, ROOT, TEST_RUNTIME_DIR, runCli, type LogLine } from '../helpers/cluster.js';
import { waitFor } from '../helpers/http.js';
import { failures, request, runLoad } from '../helpers/load.js';
import { parseUnit, portOf, readDeploy, unitEnv, unitValue } from '../helpers/units.js';
import { DEFAULTS } from '../../runtime/options.js';

const SOCKET_ACTIVATE = '/usr/bin/systemd-socket-activate';
const service = parseUnit(readDeploy('systemd/shoal.service'));
const socket = parseUnit(readDeploy('systemd/shoal.socket'));
/** The unit's delay, shortened for a test (its value is checked below). */
const TEST_SHUTDOWN_DELAY_MS = 300;
const START_TIMEOUT_MS = 20_000;
const REQUEST_TIMEOUT_MS = 15_000;
/** Load between the restarts: long enough for a full stop and start of shoal. */
const CONCURRENCY = 4;

interface Launched {
  proc: ChildProcess; logs: LogLine[]; port: number; agent: number; name: string;
  /** The first request: systemd-socket-activate execs the service when the first connection arrives. */
  first: Promise<{ status: number }>;
  wait(pred: (l: LogLine) => boolean, what: string): Promise<void>;
}
let launched: Launched | undefined;
afterEach(async () => {
  const p = launched?.proc;
  launched = undefined;
  if (p && p.exitCode === null) { p.kill('SIGTERM'); await new Promise((r) => p.once('exit', r)); }
});

/** The ExecStart command line with the install paths mapped onto this checkout. */
function execStart(): string[] {
  const argv = unitValue(service, 'Service.ExecStart').split(/\s+/);
  return argv.map((a) => a
    .replace('/srv/app/node_modules/shoal', ROOT)
    .replace('/srv/app/server.js', path.join(ROOT, 'deploy/app/server.mjs')));
}

/** `alsoListen`: ports passed after the served one (LISTEN_FDS > 1). */
async function launch(command: string[], extraArgs: string[], alsoListen: number[] = []): Promise<Launched> {
  const port = await freePort();
  const [admin, agent] = [await freePort(), await freePort()];
  const name = `test-sd-${port}`;
  // As systemd, systemd-socket-activate gives the service a clean environment: only what Environment= sets (-E here).
  const env: Record<string, string> = {
    ...unitEnv(service), SHOAL_RUNTIME_DIR: TEST_RUNTIME_DIR, NO_COLOR: '1',
    SHOAL_ADMIN: `127.0.0.1:${admin}`, SHOAL_AGENT: `127.0.0.1:${agent}`, SHOAL_SHUTDOWN_DELAY: String(TEST_SHUTDOWN_DELAY_MS),
  };
  const args = ['-l', `127.0.0.1:${port}`, ...alsoListen.flatMap((p) => ['-l', `127.0.0.1:${p}`]), ...Object.entries(env).flatMap(([k, v]) => ['-E', `${k}=${v}`]), ...command, ...execStart().map((a) => (a === 'app' ? name : a)), '--workers', '2', ...extraArgs];
  const proc = spawn(SOCKET_ACTIVATE, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: LogLine[] = [];
  onJsonLines(proc.stdout!, (x) => logs.push(x));
  let stderr = '';
  proc.stderr!.setEncoding('utf8').on('data', (c: string) => { stderr += c; });
  await waitFor(() => stderr.includes('Listening on'), START_TIMEOUT_MS, 'systemd-socket-activate listening');
  const l: Launched = {
    proc, logs, port, agent, name,
    first: request(port, '/', false, REQUEST_TIMEOUT_MS),
    wait: (pred, what) => waitFor(() => logs.some(pred), START_TIMEOUT_MS, what),
  };
  launched = l;
  return l;
}

describe('deploy/systemd units', () => {
  it('are what systemd needs: socket, SIGTERM to the primary only, time for delay and stop', () => {
    expect(fs.existsSync(SOCKET_ACTIVATE)).toBe(true);
    expect(Number(unitValue(socket, 'Socket.ListenStream'))).toBeGreaterThan(0);
    expect(unitValue(socket, 'Socket.Accept')).toBe('no');
    expect(unitValue(service, 'Unit.Requires')).toBe('shoal.socket');
    expect(unitValue(service, 'Service.KillMode')).toBe('mixed');
    const env = unitEnv(service);
    const delay = Number(env.SHOAL_SHUTDOWN_DELAY);
    expect(delay).toBeGreaterThan(0);
    expect(Number(unitValue(service, 'Service.TimeoutStopSec')) * 1000).toBeGreaterThan(delay + DEFAULTS.stopTimeoutMs);
    expect(portOf(env.SHOAL_ADMIN!)).toBeGreaterThan(0);
    expect(portOf(env.SHOAL_AGENT!)).toBeGreaterThan(0);
    expect(execStart()[1]).toBe(path.join(ROOT, 'dist/runtime/cli/main.js'));
    expect(fs.existsSync(execStart()[1]!)).toBe(true);
  });

  it.each(['kernel', 'handoff'])('ExecStart serves the socket systemd passes (accept %s)', async (mode) => {
    const l = await launch([], ['--accept', mode]);
    await l.wait((x) => x.msg === 'cluster ready', 'cluster ready');
    expect((await l.first).status).toBe(200);
    const served = l.logs.find((x) => x.msg === 'socket activation: serving the socket passed by the service manager');
    expect(served?.port).toBe(l.port);
    await l.wait((x) => x.accept === mode && String(x.msg).startsWith('accept mode:'), `accept mode ${mode}`);
    const r = await request(l.port, '/', false, REQUEST_TIMEOUT_MS);
    expect(r.status).toBe(200);
    expect(r.body).toMatch(/^hello from worker \d/);
    expect(await agentLine(l.agent)).toMatch(/^up ready \d+%\n$/);
    // The variables are gone before the workers start: the app does not see them.
    const st = await runCli(['status', '--json', '--name', l.name]);
    const pids = (JSON.parse(st.stdout) as { workers: { pid: number }[] }).workers.map((w) => w.pid);
    expect(pids).toHaveLength(2);
    for (const pid of pids) expect(fs.readFileSync(`/proc/${pid}/environ`, 'utf8')).not.toMatch(/(^|\0)LISTEN_(PID|FDS|FDNAMES)=/);
    l.proc.kill('SIGTERM');
    expect(await new Promise((r) => l.proc.once('exit', r))).toBe(0);
  });

  it.each(['kernel', 'handoff'])('a restart on the held socket fails no request under load (accept %s)', async (mode) => {
    const l = await launch(['node', path.join(FIXTURES, 'socket-launcher.mjs'), '2'], ['--accept', mode]);
    await l.wait((x) => x.msg === 'cluster ready', 'the first shoal ready');
    expect((await l.first).status).toBe(200);
    let restarted!: () => void;
    const done = new Promise<void>((r) => { restarted = r; });
    const load = runLoad({ port: l.port, concurrency: CONCURRENCY, timeoutMs: REQUEST_TIMEOUT_MS }, done);
    // `shoal stop`: the service exits; the launcher starts it again, as Restart=always does.
    const stop = await runCli(['stop', '--name', l.name]);
    expect(stop.code).toBe(0);
    await l.wait((x) => x.msg === 'launcher: started' && x.run === 2, 'the second run');
    await waitFor(() => l.logs.filter((x) => x.msg === 'cluster ready').length === 2, START_TIMEOUT_MS, 'the second shoal ready');
    // The new primary serves, then the load stops.
    for (let i = 0; i < 20; i++) expect((await request(l.port, '/', false, REQUEST_TIMEOUT_MS)).status).toBe(200);
    restarted();
    const counts = await load;
    expect(failures(counts), counts.errors.join('\n')).toBe(0);
    expect(counts.ok).toBeGreaterThan(0);
    expect(l.logs.filter((x) => x.msg === 'socket activation: serving the socket passed by the service manager')).toHaveLength(2);
  });

  it('of several passed sockets serves the first and closes the others, which then refuse', async () => {
    const other = await freePort();
    const l = await launch([], ['--accept', 'kernel'], [other]);
    await l.wait((x) => x.msg === 'cluster ready', 'cluster ready');
    expect((await l.first).status).toBe(200);
    const warned = l.logs.find((x) => String(x.msg).startsWith('socket activation: several sockets were passed'));
    expect(warned?.fds).toBe(2);
    expect(warned?.closed).toEqual([4]);
    // Left open, a connection to it would wait in a queue nobody serves, and the workers would hold it.
    expect(await connectOutcome(other)).toBe('ECONNREFUSED');
    expect((await request(l.port, '/', false, REQUEST_TIMEOUT_MS)).status).toBe(200);
  });
});

/** How a connect to 127.0.0.1:port ends: 'connected', an error code, or 'timeout'. */
function connectOutcome(port: number): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.setTimeout(REQUEST_TIMEOUT_MS, () => { s.destroy(); resolve('timeout'); });
    s.once('connect', () => { s.destroy(); resolve('connected'); });
    s.once('error', (e: NodeJS.ErrnoException) => { resolve(e.code ?? e.message); });
  });
}
