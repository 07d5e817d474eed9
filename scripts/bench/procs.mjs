// Server process management: every contender runs in its own process group
// (detached spawn) so that the primary and all of its workers can be killed
// together; every spawned server carries BENCH_RUN_TAG in its environment so
// that a worker which escaped its group is still found (and killed by pid).
import { execFileSync, spawn } from 'node:child_process';
import os from 'node:os';
import { readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export const RUN_TAG = `shoal-bench-${process.pid}-${Date.now()}`;
const live = new Set();
const TAIL = 4000;

/**
 * Clock ticks per second of /proc's CPU times (USER_HZ, almost always 100):
 * one tick is the resolution of every CPU figure read here.
 */
export const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'latin1', timeout: 2000 }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/**
 * Spawns a server in its own group. `watch` is a list of RegExps: the first
 * output line matching each is kept in `matched[i]` (the line tail below keeps
 * only the last 50, which a chatty start-up could push a readiness line out of).
 */
export function spawnServer(cmd, args, { cwd, env, watch = [] }) {
  const child = spawn(cmd, args, {
    cwd,
    env: { ...env, BENCH_RUN_TAG: RUN_TAG },
    detached: true, // own process group: kill(-pid) reaches the workers too
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const s = { child, pid: child.pid, out: '', exited: null, lines: [], matched: watch.map(() => null) };
  // Lines are cut per stream: a chunk may end mid-line, and stdout and stderr interleave.
  const keep = (stream) => {
    let partial = '';
    stream.on('data', (chunk) => {
      s.out = (s.out + chunk).slice(-TAIL); // drained always, or a chatty server would block on a full pipe
      const parts = (partial + chunk).split('\n');
      partial = parts.pop().slice(-TAIL);
      for (const l of parts) {
        if (!l) continue;
        s.lines.push(l);
        watch.forEach((re, i) => { if (s.matched[i] === null && re.test(l)) s.matched[i] = l; });
      }
      if (s.lines.length > 50) s.lines.splice(0, s.lines.length - 50);
    });
  };
  keep(child.stdout);
  keep(child.stderr);
  s.exitPromise = new Promise((resolve) => child.on('exit', (code, signal) => {
    s.exited = { code, signal };
    resolve(s.exited);
  }));
  child.on('error', (e) => { s.spawnError = e; });
  live.add(s);
  return s;
}

function groupAlive(pgid) {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Pids of processes this harness spawned (by environment tag), if any are still alive. */
export function taggedPids() {
  const pids = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${d}/environ`, 'latin1').includes(`BENCH_RUN_TAG=${RUN_TAG}`)) pids.push(Number(d));
    } catch { /* process gone or not ours to read */ }
  }
  return pids;
}

/**
 * SIGTERM the leader, wait up to graceMs for it to exit, then SIGKILL the whole
 * group and anything else carrying our tag. Returns what happened, so a
 * runtime that ignores SIGTERM or leaves workers behind shows up in the results.
 */
export async function stopServer(s, graceMs) {
  const t0 = Date.now();
  const info = { graceful: false, stopMs: 0, leftoverAfterExit: 0, orphansKilled: [] };
  if (s.exited === null) {
    try { process.kill(s.pid, 'SIGTERM'); } catch { /* already gone */ }
    await Promise.race([s.exitPromise, sleep(graceMs, undefined, { ref: false })]);
  }
  info.graceful = s.exited !== null;
  info.stopMs = Date.now() - t0;
  info.exit = s.exited;
  if (info.graceful) {
    // The leader exited: did its workers go with it? Give them a moment.
    for (let i = 0; i < 20 && groupAlive(s.pid); i++) await sleep(50);
    if (groupAlive(s.pid)) info.leftoverAfterExit = 1;
  }
  try { process.kill(-s.pid, 'SIGKILL'); } catch { /* group empty */ }
  await Promise.race([s.exitPromise, sleep(2000, undefined, { ref: false })]);
  for (let i = 0; i < 40 && groupAlive(s.pid); i++) await sleep(50);
  for (const pid of taggedPids()) {
    try { process.kill(pid, 'SIGKILL'); info.orphansKilled.push(pid); } catch { /* gone */ }
  }
  live.delete(s);
  return info;
}

/** Last resort (exit, signals): synchronously SIGKILL every group and tagged pid. */
export function killAllSync() {
  for (const s of live) {
    try { process.kill(-s.pid, 'SIGKILL'); } catch { /* gone */ }
  }
  live.clear();
  for (const pid of taggedPids()) {
    try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
  }
}

export function portFree(port, host = '127.0.0.1') {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, host, () => srv.close(() => resolve(true)));
  });
}

export async function waitPortFree(port, timeoutMs) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await portFree(port)) return true;
    await sleep(100);
  }
  return false;
}

/**
 * CPU accounting to spot a busy machine: system-wide user+nice+system jiffies
 * and those of our own processes (harness, load generator, tagged servers).
 * Their difference over a run is CPU used by something else (other people's
 * tests on a shared box), which the report flags.
 */
export function cpuSample(extraPids = []) {
  const [user, nice, system] = readFileSync('/proc/stat', 'latin1').split('\n', 1)[0].trim().split(/\s+/).slice(1).map(Number);
  let ours = 0;
  for (const pid of new Set([process.pid, ...extraPids, ...taggedPids()])) ours += procStat(pid)?.ticks ?? 0;
  return { t: Date.now(), busy: user + nice + system, ours };
}

/** Cores' worth of CPU used by other processes between two samples. */
export function foreignCores(a, b) {
  const secs = (b.t - a.t) / 1000;
  if (secs <= 0) return 0;
  return Math.max(0, Math.round(((b.busy - a.busy - (b.ours - a.ours)) / CLK_TCK / secs) * 100) / 100);
}

/**
 * One process's parent and CPU time (utime + stime, all its threads, in clock
 * ticks) from /proc/<pid>/stat; null once it has exited.
 */
export function procStat(pid) {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const rest = f.slice(f.lastIndexOf(')') + 2).split(' '); // the command name may hold spaces
    return { ppid: Number(rest[1]), ticks: Number(rest[11]) + Number(rest[12]) };
  } catch {
    return null;
  }
}

/**
 * Before a run: exits 1 if `port` is taken; returns the load average, after
 * noting through `log` that figures will be noisy on a machine that is not idle.
 */
export async function preflight(port, log) {
  if (!(await portFree(port))) {
    console.error(`port ${port} is in use; pick another with --port`);
    process.exit(1);
  }
  const load = os.loadavg()[0];
  if (load > 0.5) log(`note: load average ${load.toFixed(2)} before starting: the machine is not idle, figures will be noisy`);
  return load;
}
