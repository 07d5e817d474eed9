// Side by side on one core: the new-connection rate of two or more clusters
// at once, each pinned to CPU 1 (so they share it alike), loaded in turn by
// `wrk -t1 -c50 -H 'Connection: close'` pinned to CPU 0 (with --keep-alive,
// without the header: 50 connections kept open, each serving request after
// request). On a shared 2-core
// machine the full bench (run.mjs) swings by ±15% from run to run; this
// narrower setup, rounds interleaved and the order alternated, reaches a few
// percent. A first round per contender warms it up and is not counted. It
// needs wrk and taskset (util-linux) and at least 2 CPUs (--unpinned needs
// neither: its load comes from loadgen.mjs).
//
//   node scripts/bench/side-by-side.mjs [--rounds 8] [--seconds 5] [--keep-alive] [--unpinned] rr handoff:least-conn [handoff:round-robin@/other/dist …]
//
// Contenders: `rr` (node:cluster round robin) or `none` (SCHED_NONE), through
// cluster-launcher.mjs; `<accept>:<balancer>[@<dist dir>]` for shoal, from
// this checkout's dist (npm run build) unless a dist dir is given (another
// build to compare with). The first contender is the baseline. Prints per
// contender the median req/s, its ratio to the baseline, the median of the
// per-round ratios, and the primary's and the workers' CPU µs per request
// (per connection, one request each, without --keep-alive).
//
// --unpinned measures in the full bench's setting instead: nothing pinned,
// the load from the bench's own generator process (loadgen.mjs: scenario
// b's 32 closed loops of one `Connection: close` request each, or with
// --keep-alive autocannon's 50 connections), so servers and generator share
// both cores as they do in run.mjs; the generator's CPU per request is
// printed too. Rounds still interleave, which pairs each contender's run
// with the others' under the same drift.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { fetchOnce } from './clients.mjs';
import { LoadGen } from './loadgen-client.mjs';
import { CLK_TCK, procStat } from './procs.mjs';
import { median } from './stats.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '../..');
const app = join(here, 'app.cjs');
/** How long a contender may take to answer its first request. */
const READY_TIMEOUT_MS = 30_000;
const FIRST_PORT = 19_100;
/** How long a contender may take to stop on SIGTERM before its group is killed. */
const STOP_GRACE_MS = 3_000;
/** How much longer than its window a --unpinned load job may take before the generator is killed. */
const JOB_SLACK_MS = 15_000;
/** A --unpinned request not answered within this long counts as a timeout (as in run.mjs's jobs). */
const REQUEST_TIMEOUT_MS = 5_000;

function usage(msg) {
  console.error(`side-by-side: ${msg}\nusage: node scripts/bench/side-by-side.mjs [--rounds N] [--seconds S] [--keep-alive] [--unpinned] <contender> <contender> [...]\n  contender: rr | none | <kernel|handoff>:<balancer>[@<dist dir>]`);
  process.exit(2);
}

const { values, positionals: ids } = parseArgs({ allowPositionals: true, options: { rounds: { type: 'string', default: '8' }, seconds: { type: 'string', default: '5' }, 'keep-alive': { type: 'boolean', default: false }, unpinned: { type: 'boolean', default: false } } });
const rounds = Number(values.rounds);
const seconds = Number(values.seconds);
if (!(rounds >= 1) || !(seconds >= 1)) usage('--rounds and --seconds take positive numbers');
if (ids.length < 2) usage('give at least two contenders (the first is the baseline)');
const unpinned = values.unpinned;
for (const tool of unpinned ? [] : ['wrk', 'taskset']) {
  try { execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }); } catch { usage(`${tool} is not installed`); }
}

function command(id, port) {
  if (id === 'rr' || id === 'none') return [join(here, 'cluster-launcher.mjs'), app, '2', id];
  const m = /^(kernel|handoff):([a-z-]+)(?:@(.+))?$/.exec(id);
  if (!m) usage(`unknown contender ${id}`);
  const cli = join(m[3] ?? join(root, 'dist'), 'runtime/cli/main.js');
  if (!existsSync(cli)) usage(`${cli} not found (npm run build)`);
  return [cli, 'start', app, '--workers', '2', '--port', String(port), '--host', '127.0.0.1', '--balancer', m[2], '--accept', m[1], '--name', `side-by-side-${port}`];
}

/** User + system CPU of a process, ms (0 once it has exited). */
const cpuMs = (pid) => ((procStat(pid)?.ticks ?? 0) * 1000) / CLK_TCK;

function children(pid) {
  try { return execFileSync('pgrep', ['-P', String(pid)], { encoding: 'latin1' }).trim().split('\n').map(Number); } catch { return []; }
}

const header = values['keep-alive'] ? [] : ['-H', 'Connection: close'];
const unit = values['keep-alive'] ? 'req' : 'conn';
const wrk = (port) => {
  const out = execFileSync('taskset', ['-c', '0', 'wrk', '-t1', '-c50', `-d${seconds}s`, ...header, `http://127.0.0.1:${port}/`], { encoding: 'latin1' });
  return { n: Number(/(\d+) requests in/.exec(out)?.[1]), rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]) };
};
const gen = unpinned ? new LoadGen(join(here, 'loadgen.mjs'), here) : undefined;
/** One window of load on `port`: requests answered and req/s. */
async function load(port) {
  if (!gen) return wrk(port);
  const durationMs = seconds * 1000;
  const r = values['keep-alive']
    ? await gen.run('keepAlive', { port, connections: 50, durationMs, timeoutMs: REQUEST_TIMEOUT_MS }, durationMs + JOB_SLACK_MS)
    : await gen.run('closed', { port, concurrency: 32, durationMs, timeoutMs: REQUEST_TIMEOUT_MS }, durationMs + JOB_SLACK_MS);
  return { n: r.ok, rps: r.rps };
}
const answers = (port) => new Promise((resolve) => fetchOnce(port, '/', 1000, (o) => resolve(o === 'ok')));

const contenders = ids.map((id, i) => {
  const port = FIRST_PORT + i;
  const env = { ...process.env, PORT: String(port), HOST: '127.0.0.1' };
  // taskset execs node: the pid spawned is the primary's.
  const argv = unpinned ? [process.execPath, ...command(id, port)] : ['taskset', '-c', '1', process.execPath, ...command(id, port)];
  const child = spawn(argv[0], argv.slice(1), { env, stdio: ['ignore', 'ignore', 'ignore'], detached: true });
  return { id, port, child, runs: [] };
});
const signalAll = (sig) => { for (const c of contenders) { try { process.kill(-c.child.pid, sig); } catch { /* gone */ } } };
const stopAll = () => {
  signalAll('SIGTERM');
  setTimeout(() => signalAll('SIGKILL'), STOP_GRACE_MS).unref();
};
process.on('SIGINT', () => { stopAll(); process.exit(130); });

try {
  for (const c of contenders) {
    const end = Date.now() + READY_TIMEOUT_MS;
    while (!(await answers(c.port))) {
      if (Date.now() > end) throw new Error(`${c.id} did not answer on port ${c.port} within ${READY_TIMEOUT_MS} ms`);
      await sleep(100);
    }
    c.workers = children(c.child.pid);
  }
  await gen?.start();
  // One round each first, not counted: the first seconds of load run slower (code not yet optimised).
  for (let r = -1; r < rounds; r++) {
    const order = r % 2 === 0 ? contenders : [...contenders].reverse();
    for (const c of order) {
      if (r < 0) { await load(c.port); continue; }
      const p0 = cpuMs(c.child.pid);
      const w0 = c.workers.reduce((s, w) => s + cpuMs(w), 0);
      const g0 = gen ? cpuMs(gen.pid) : 0;
      const { n, rps } = await load(c.port);
      const p1 = cpuMs(c.child.pid);
      const w1 = c.workers.reduce((s, w) => s + cpuMs(w), 0);
      const g1 = gen ? cpuMs(gen.pid) : 0;
      c.runs.push({ rps, primaryUs: ((p1 - p0) * 1000) / n, workersUs: ((w1 - w0) * 1000) / n, genUs: ((g1 - g0) * 1000) / n });
      console.error(`round ${r + 1}/${rounds} ${c.id}: ${rps.toFixed(0)} req/s`);
    }
  }
} finally {
  gen?.close();
  stopAll();
}

const base = contenders[0];
for (const c of contenders) {
  const rps = median(c.runs.map((x) => x.rps));
  const perRound = median(c.runs.map((x, i) => x.rps / base.runs[i].rps));
  console.log(`${c.id.padEnd(36)} ${rps.toFixed(0).padStart(7)} req/s  ${(rps / median(base.runs.map((x) => x.rps))).toFixed(3)}x  per-round median ${perRound.toFixed(3)}x  primary ${median(c.runs.map((x) => x.primaryUs)).toFixed(1)} us/${unit}  workers ${median(c.runs.map((x) => x.workersUs)).toFixed(1)} us/${unit}${gen ? `  load generator ${median(c.runs.map((x) => x.genUs)).toFixed(1)} us/${unit}` : ''}`);
}
