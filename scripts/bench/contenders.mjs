// The contenders: how each is started, when it counts as ready, how it is
// stopped. All run the same app (app.cjs) with the same worker count.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { fetchOnce } from './clients.mjs';
import { procStat, spawnServer, stopServer } from './procs.mjs';

export const BASELINE = 'cluster-rr';

/**
 * shoal's contenders: both accept modes. least-conn and least-load accept in
 * kernel mode unless told otherwise; round-robin only hands off.
 */
export const SHOAL = [
  { id: 'shoal-kernel-least-conn', balancer: 'least-conn', accept: 'kernel', note: 'kernel mode by default' },
  { id: 'shoal-kernel-least-load', balancer: 'least-load', accept: 'kernel', note: 'kernel mode by default' },
  { id: 'shoal-handoff-least-conn', balancer: 'least-conn', accept: 'handoff', flags: ['--accept', 'handoff'] },
  { id: 'shoal-handoff-round-robin', balancer: 'round-robin', accept: 'handoff', note: 'round-robin only hands off' },
].map((x) => ({ ...x, label: `shoal ${x.accept} ${x.balancer}`, name: `bench-${x.id.slice('shoal-'.length)}` }));

export function contenders({ root, benchDir, workers, shoalCli: cli }) {
  const app = join(benchDir, 'app.cjs');
  const launcher = join(benchDir, 'cluster-launcher.mjs');
  const pm2Bin = join(benchDir, 'node_modules/pm2/bin/pm2-runtime');
  const shoalCli = cli || join(root, 'dist/runtime/cli/main.js');
  const node = process.execPath;
  const list = [
    { id: 'single', label: 'single process', multi: false, how: '`node app.cjs`', cmd: () => [node, [app]] },
    { id: 'cluster-rr', label: 'node:cluster RR', multi: true, readyLine: /^ready$/,
      how: '`cluster-launcher.mjs` forks N workers, `cluster.SCHED_RR` (primary accepts, hands connections round robin)',
      cmd: () => [node, [launcher, app, String(workers), 'rr']] },
    { id: 'cluster-none', label: 'node:cluster SCHED_NONE', multi: true, readyLine: /^ready$/,
      how: 'same launcher, `cluster.SCHED_NONE` (workers share the listen socket, the kernel balances)',
      cmd: () => [node, [launcher, app, String(workers), 'none']] },
    { id: 'pm2', label: 'PM2 cluster', multi: true, pm2: true, pm2Cli: join(benchDir, 'node_modules/pm2/bin/pm2'),
      how: '`pm2-runtime start app.cjs -i N` with a private PM2_HOME (PM2 cluster mode is node:cluster RR underneath)',
      check: () => (existsSync(pm2Bin) ? null : 'pm2 not installed (npm --prefix scripts/bench install)'),
      // pm2-runtime keeps the PM2 "God" in the foreground (no daemon), so the
      // process group holds everything; PM2_HOME is a private temp dir.
      cmd: () => [node, [pm2Bin, 'start', app, '-i', String(workers), '--name', 'bench']] },
  ];
  for (const x of SHOAL) {
    const flags = ['--balancer', x.balancer, ...(x.flags ?? []), '--name', x.name];
    list.push({
      id: x.id, label: x.label, multi: true, shoal: x,
      // The primary logs "cluster ready" once every worker is; the accept line is waited for too (startContender).
      readyLine: /"msg":"cluster ready"/,
      how: `\`node dist/runtime/cli/main.js start app.cjs --workers N --port P --host 127.0.0.1 ${flags.join(' ')}\`${x.note ? ` (${x.note})` : ''}`,
      check: () => (existsSync(shoalCli) ? null : `${shoalCli} not found (npm run build, or the CLI has not landed yet)`),
      cmd: (port) => [node, [shoalCli, 'start', app, '--workers', String(workers), '--port', String(port), '--host', '127.0.0.1', ...flags]],
      // `shoal status --json` without a process per call (the poll in scenario e would be charged as other load).
      controlClient: join(dirname(shoalCli), '../control/client.js'),
    });
  }
  return list.map((c) => ({ ...c, workers: c.multi ? workers : 1, cwd: root }));
}

function probeOnce(port, timeoutMs) {
  return new Promise((resolve) => fetchOnce(port, '/', timeoutMs, (o) => resolve(o)));
}

/** The pid of whichever worker answered GET /stall (the app reports its pid). */
function workerPid(port) {
  return new Promise((resolve) => fetchOnce(port, '/stall', 1000, (o, _ms, buf) => {
    const m = o === 'ok' && /"pid":(\d+)/.exec(buf.toString('latin1'));
    resolve(m ? Number(m[1]) : null);
  }));
}

/**
 * Readiness of a multi-worker runtime without a readiness line (PM2): wait
 * until every worker has answered (distinct pids), at most settleMs.
 */
async function allWorkersUp(port, workers, settleMs) {
  const pids = new Set();
  const end = Date.now() + settleMs;
  while (Date.now() < end && pids.size < workers) {
    const pid = await workerPid(port);
    if (pid) pids.add(pid);
    else await sleep(20);
  }
  return pids.size;
}

/** shoal's start-up line naming the accept mode in force, and the warning when kernel mode's self-test fails. */
const ACCEPT_LINE = /accept mode: (kernel|handoff)/;
const FALLBACK_LINE = /kernel accept is not available here \((.*)\); the primary accepts/;

/** Which accept mode a shoal primary said it runs, from its log (null: it has not said yet). */
function acceptMode(server) {
  const [, line, fallback] = server.matched;
  if (line) return { mode: ACCEPT_LINE.exec(line)[1] };
  if (fallback) return { mode: 'handoff', fallback: FALLBACK_LINE.exec(fallback)[1] };
  return null;
}

/**
 * The primary whose CPU scenario b charges per connection: the parent of a
 * worker (GET /stall names one), which is the spawned process for every
 * contender today; the check keeps a launcher that forks its primary honest.
 */
async function primaryOf(port, server) {
  const wpid = await workerPid(port);
  const ppid = wpid ? procStat(wpid)?.ppid : null;
  return ppid > 1 ? ppid : server.pid;
}

/**
 * Starts a contender and waits until GET / answers 200 and, where the runtime
 * says so, until its readiness line (every worker up) has been printed; for
 * shoal also until it has said which accept mode runs, so that a kernel-mode
 * contender is measured in kernel mode and not during its start-up handoff.
 * Runtimes without a readiness line get until every worker has answered, at
 * most settleMs more. Resolves { server, accept, primaryPid, ... } or
 * { error, permanent }: never throws, never waits forever.
 */
export async function startContender(c, { port, env, readyTimeoutMs, settleMs }) {
  const problem = c.check?.();
  if (problem) return { error: problem, permanent: true };
  const childEnv = { ...env };
  if (c.shoal) {
    // shoal owns the port and passes PORT to its workers itself.
    delete childEnv.PORT;
    delete childEnv.HOST;
  }
  if (c.pm2) {
    c.pm2Home = mkdtempSync(join(tmpdir(), 'shoal-bench-pm2-'));
    childEnv.PM2_HOME = c.pm2Home;
  }
  const [cmd, args] = c.cmd(port);
  const t0 = Date.now();
  const watch = [c.readyLine ?? /^$/, ...(c.shoal ? [ACCEPT_LINE, FALLBACK_LINE] : [])];
  const server = spawnServer(cmd, args, { cwd: c.cwd, env: childEnv, watch });
  const deadline = t0 + readyTimeoutMs;
  let answered = false;
  while (Date.now() < deadline) {
    if (server.exited || server.spawnError) break;
    if ((!c.readyLine || server.matched[0]) && (!c.shoal || acceptMode(server))) {
      if ((await probeOnce(port, 1000)) === 'ok') { answered = true; break; }
    }
    await sleep(50);
  }
  if (!answered) {
    const why = server.spawnError ? `spawn failed: ${server.spawnError.message}`
      : server.exited ? `exited (code ${server.exited.code}, signal ${server.exited.signal}) before serving`
      : c.readyLine && !server.matched[0] ? `no readiness line (${c.readyLine}) within ${readyTimeoutMs} ms`
      : c.shoal && !acceptMode(server) ? `no "accept mode: ..." line within ${readyTimeoutMs} ms`
      : `GET / did not answer 200 within ${readyTimeoutMs} ms`;
    await stopContender(c, server, 2000);
    return { error: `${why}; output: ${server.out.trim().slice(-600) || '(none)'}` };
  }
  const accept = c.shoal ? acceptMode(server) : undefined;
  if (accept && accept.mode !== c.shoal.accept) {
    await stopContender(c, server, 2000);
    const why = accept.fallback ? ` (its kernel-accept self-test failed: ${accept.fallback})` : '';
    return { error: `reported accept mode ${accept.mode}, not ${c.shoal.accept}${why}: not measured`, permanent: true, accept };
  }
  const seen = c.multi && !c.readyLine ? await allWorkersUp(port, c.workers, settleMs) : null;
  const primaryPid = c.multi ? await primaryOf(port, server) : server.pid;
  const readyAt = Date.now();
  if (server.exited) {
    await stopContender(c, server, 2000);
    return { error: `exited (code ${server.exited.code}) right after becoming ready` };
  }
  return { server, readyMs: readyAt - t0, readyAt, workersSeen: seen, accept, primaryPid };
}

/** What `shoal status --json` prints for a shoal contender, or null if it does not answer within 5 s. */
export async function shoalStatus(c, env) {
  let timer;
  try {
    const { controlRequest } = await import(pathToFileURL(c.controlClient).href);
    const late = new Promise((resolve) => { timer = setTimeout(resolve, 5000, null); });
    const doc = await Promise.race([controlRequest(c.shoal.name, { cmd: 'status' }, undefined, env), late]);
    return doc?.ok ? doc : null;
  } catch {
    return null;
  } finally {
    clearTimeout(timer);
  }
}

export async function stopContender(c, server, graceMs) {
  const info = await stopServer(server, graceMs);
  if (c.pm2 && c.pm2Home) pm2Cleanup(c);
  return info;
}

/**
 * `pm2 kill` against the private PM2_HOME, then remove it. pm2-runtime runs no
 * daemon, and `pm2 kill` with nothing running would first spawn one (~1 s), so
 * it runs only when PM2_HOME names a live PM2 process; the group kill in
 * stopServer has already taken the workers.
 */
export function pm2Cleanup(c) {
  if (!c.pm2Home) return;
  let pid = NaN;
  try { pid = Number(readFileSync(join(c.pm2Home, 'pm2.pid'), 'utf8').trim()); } catch { /* no pid file */ }
  let alive = false;
  try { alive = pid > 0 && process.kill(pid, 0); } catch { /* not running */ }
  if (alive && existsSync(c.pm2Cli)) {
    try {
      execFileSync(process.execPath, [c.pm2Cli, 'kill'], {
        env: { ...process.env, PM2_HOME: c.pm2Home }, stdio: 'ignore', timeout: 15000,
      });
    } catch { /* best effort; the pid is killed below */ }
    try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
  }
  rmSync(c.pm2Home, { recursive: true, force: true });
  c.pm2Home = null;
}
