#!/usr/bin/env node
// Session benchmarks: (A) reads on a worker, in process; (B) how fast a write
// reaches the other workers under load; (C) a session endpoint against
// express-session + connect-redis, every contender under `shoal start`;
// (D) two hosts sharing sessions through a Redis of the bench's own.
//   node scripts/bench/sessions.mjs [--quick] [--runs N] [--only A,B,C,D] [--workers N] [--port P]
//                                   [--out f.json] [--md f.md] [--idle-wait S] [--app-nodelay]
//                                   [--redis-url redis://127.0.0.1:6379] [--d-stages visibility,roundtrips,throughput]
// Writes scripts/bench/results/sessions-latest.json and BENCHMARKS-sessions.md.
// --app-nodelay: the apps turn Nagle off on each connection themselves (a
// comparison run that works around a runtime that leaves it on). --redis-url
// is C's Redis; D starts its own redis-server (ports --port and --port + 1 for
// its two hosts). --d-stages runs only some of D's stages (a check of one
// figure; the report then says "no run" for the others).
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { RUN_TAG, cpuSample, foreignCores, killAllSync, preflight, spawnServer, stopServer, waitPortFree } from './procs.mjs';
import { machineInfo } from './machine.mjs';
import { LoadGen } from './loadgen-client.mjs';
import { fetchOnce } from './clients.mjs';
import { median } from './stats.mjs';
import { BUSY } from './report.mjs';
import { renderSessionReport, TARGETS } from './sessions/report.mjs';
import { aggregateRounds } from './sessions/aggregate.mjs';
import { killRedisSync, partD } from './sessions/cross-host.mjs';

const run = promisify(execFile);
const benchDir = dirname(fileURLToPath(import.meta.url));
const root = resolve(benchDir, '../..');
const cli = join(root, 'dist/runtime/cli/main.js');
const T0 = Date.now();
const log = (msg) => process.stderr.write(`[${((Date.now() - T0) / 1000).toFixed(1).padStart(6)}s] ${msg}\n`);

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false }, runs: { type: 'string' }, workers: { type: 'string' }, port: { type: 'string' },
    out: { type: 'string' }, md: { type: 'string' }, 'idle-wait': { type: 'string' }, 'app-nodelay': { type: 'boolean', default: false }, 'redis-url': { type: 'string' },
    only: { type: 'string' }, 'd-stages': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (args.help) {
  console.log(readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').slice(1, 14).join('\n').replace(/^\/\/ ?/gm, ''));
  process.exit(0);
}

const quick = args.quick;
const parts = new Set((args.only ?? 'A,B,C,D').toUpperCase().split(',').map((x) => x.trim()).filter(Boolean));
if ([...parts].some((x) => !'ABCD'.includes(x) || x.length !== 1) || !parts.size) { console.error('--only takes a list of parts: A,B,C,D'); process.exit(2); }
const cfg = {
  quick,
  workers: Number(args.workers ?? 2),
  runs: Number(args.runs ?? 3),
  port: Number(args.port ?? 39223),
  connections: 32,
  poolSize: 200,
  durationMs: quick ? 3000 : 10000,
  warmupMs: quick ? 1000 : 3000,
  lightConnections: 4, // B, second load level: fewer connections, so the workers' loop turns are short
  lightDurationMs: quick ? 2000 : 5000,
  appNoDelay: args['app-nodelay'],
  timeoutMs: 5000, // per request: a hung request is counted as a timeout
  readyTimeoutMs: 30000,
  stopTimeoutMs: 15000,
  pollMs: 1000, // B: status polls during the load (each worker's last 1024 lag samples)
  redisUrl: args['redis-url'] ?? 'redis://127.0.0.1:6379',
  redisPrefix: 'shoal-bench:',
  idleWaitMs: Number(args['idle-wait'] ?? (quick ? 0 : 10)) * 1000,
  parts: [...parts].sort(),
  // D: two hosts of one worker each (two shoal clusters, one Redis)
  d: {
    rounds: quick && !args.runs ? 1 : Number(args.runs ?? 3), // throughput rounds; --quick: one unless --runs says otherwise
    connections: 16, // throughput: split over the two hosts
    poolPerHost: 100,
    visWrites: quick ? 100 : 300,
    visConnections: 8, // background load while the visibility probe runs
    visLoadMs: quick ? 6000 : 15000, // the probe runs from 1 s in to 1.5 s before the end (or until its writes are done)
    visPacedShare: 0.5, // the paced load: this share of the req/s the saturating load reached
    visPollTimeoutMs: 2000,
    rtDurationMs: quick ? 3000 : 5000,
    rtConnections: 8,
    stages: new Set((args['d-stages'] ?? 'visibility,roundtrips,throughput').split(',').map((x) => x.trim()).filter(Boolean)),
  },
};
if (![...cfg.d.stages].every((x) => ['visibility', 'roundtrips', 'throughput'].includes(x)) || !cfg.d.stages.size) {
  console.error('--d-stages takes a list of part D\'s stages: visibility,roundtrips,throughput'); process.exit(2);
}
for (const k of ['workers', 'runs', 'port']) {
  if (!Number.isInteger(cfg[k]) || cfg[k] < 1) { console.error(`--${k} must be a whole number ≥ 1`); process.exit(2); }
}
const jsonPath = resolve(args.out ?? join(benchDir, 'results/sessions-latest.json'));
const mdPath = resolve(args.md ?? join(root, 'BENCHMARKS-sessions.md'));

// ---- cleanup on every way out ----
const tmp = mkdtempSync(join(os.tmpdir(), 'shoal-bench-sess-'));
const rtDir = join(tmp, 'run'); // private SHOAL_RUNTIME_DIR: our cluster names cannot meet anyone else's
mkdirSync(rtDir, { mode: 0o700 });
const lg = new LoadGen(join(benchDir, 'sessions/load.mjs'), benchDir);
const lgProbe = new LoadGen(join(benchDir, 'sessions/load.mjs'), benchDir); // D's visibility probe, apart from the load
let cleaned = false;
function cleanup() {
  if (cleaned) return;
  cleaned = true;
  killAllSync();
  killRedisSync();
  lg.kill();
  lgProbe.kill();
  rmSync(tmp, { recursive: true, force: true });
}
process.on('exit', cleanup);
let redisInUse = null; // C's client while it runs: a signal still deletes the bench's keys (bounded)
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, async () => {
    log(`${sig}: stopping every server and exiting`);
    cleanup();
    if (redisInUse) {
      const n = await withTimeout(flushBenchKeys(redisInUse), 2000, 'deleting the bench\'s Redis keys').catch((e) => e.message);
      log(`deleted the bench's Redis keys: ${n}`);
    }
    process.exit(128 + os.constants.signals[sig]);
  });
}

const { controlRequest } = await import(new URL('../../dist/runtime/control/client.js', import.meta.url).href);
const clusterEnv = (() => {
  const env = { ...process.env, SHOAL_RUNTIME_DIR: rtDir };
  for (const k of ['PORT', 'HOST', 'SHOAL_WORKERS', 'SHOAL_BALANCER', 'SHOAL_NAME', 'SHOAL_HOST', 'BENCH_APP_NODELAY']) delete env[k];
  if (cfg.appNoDelay) env.BENCH_APP_NODELAY = '1';
  return env;
})();
const withTimeout = (p, ms, what) => {
  let t;
  return Promise.race([p, new Promise((_, rej) => { t = setTimeout(() => rej(new Error(`${what}: no answer within ${ms} ms`)), ms); })]).finally(() => clearTimeout(t));
};
/** The cluster's status over its control socket (what `shoal status --json` prints). */
const statusOf = (name) => withTimeout(controlRequest(name, { cmd: 'status' }, undefined, clusterEnv), 5000, 'status');
/** The same through the CLI, as a user would ask. */
async function statusCli(name) {
  const { stdout } = await run(process.execPath, [cli, 'status', '--json', '--name', name], { env: clusterEnv, timeout: 10000 });
  return JSON.parse(stdout);
}
const probe = (path = '/', port = cfg.port) => new Promise((res) => fetchOnce(port, path, 2000, (o) => res(o)));
/** The app's view of a handed-over connection: is Nagle off (GET /sock)? true, false, or null (cannot tell). */
const socketNoDelay = (port = cfg.port) => new Promise((res) => fetchOnce(port, '/sock', 2000, (o, _ms, buf) => {
  const m = o === 'ok' && /"noDelay":(true|false|null)/.exec(buf.toString('latin1'));
  res(m ? JSON.parse(m[1]) : null);
}));
const job = (kind, opts, hardMs) => lg.run(kind, opts, hardMs);

/** CPU of redis-server counts as ours (a contender's store), not as another process disturbing the run. */
function redisPids() {
  const pids = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try { if (readFileSync(`/proc/${d}/comm`, 'latin1').trim() === 'redis-server') pids.push(Number(d)); } catch { /* gone */ }
  }
  return pids;
}
const ourPids = () => [lg.pid, lgProbe.pid, ...redisPids()].filter(Boolean);

async function waitQuiet(maxMs, tag) {
  if (maxMs <= 0) return;
  const end = Date.now() + maxMs;
  let said = false;
  while (Date.now() < end) {
    const a = cpuSample(ourPids());
    await sleep(500);
    const fc = foreignCores(a, cpuSample(ourPids()));
    if (fc < BUSY) return;
    if (!said) log(`${tag}: other processes use ${fc} cores; waiting up to ${maxMs / 1000} s for quiet`);
    said = true;
  }
  log(`${tag}: machine still busy; going on (the run is flagged)`);
}

// ---- clusters ----
let clusterSeq = 0;

/**
 * `shoal start <app>`; resolves { server, name, readyMs } once every worker is ready and GET / answers, or { error }.
 * o: port (default --port), workers (default --workers), args (more CLI arguments).
 */
async function startCluster(app, extraEnv = {}, o = {}) {
  const port = o.port ?? cfg.port;
  const workers = o.workers ?? cfg.workers;
  const name = `sessbench-${process.pid}-${++clusterSeq}`;
  if (!(await waitPortFree(port, 10000))) return { error: `port ${port} still busy` };
  const t0 = Date.now();
  const server = spawnServer(process.execPath, [cli, 'start', app, '--workers', String(workers), '--port', String(port),
    '--host', '127.0.0.1', '--name', name, ...(o.args ?? [])], { cwd: root, env: { ...clusterEnv, ...extraEnv } });
  const deadline = t0 + cfg.readyTimeoutMs;
  let why = `not ready within ${cfg.readyTimeoutMs} ms`;
  while (Date.now() < deadline) {
    if (server.exited || server.spawnError) {
      why = server.spawnError ? `spawn failed: ${server.spawnError.message}` : `exited (code ${server.exited.code}, signal ${server.exited.signal}) before serving`;
      break;
    }
    const st = await statusOf(name).catch(() => null);
    if (st?.workers?.length === workers && st.workers.every((w) => w.state === 'ready') && (await probe('/', port)) === 'ok') {
      const readyMs = Date.now() - t0;
      const noDelay = await socketNoDelay(port);
      if (noDelay === false && !cfg.appNoDelay && !problems.some((x) => x.startsWith('Nagle'))) {
        problems.push('Nagle is on for the connections shoal hands to the workers (GET /sock: socket noDelay false; a plain `node app` has it off): a response written in more than one piece waits for the client\'s delayed ACK (~40 ms). Affects the express contenders in C (express-session ends the response after the store\'s save).');
      }
      return { server, name, port, readyMs, noDelay };
    }
    await sleep(100);
  }
  await stopCluster({ server, name });
  return { error: `${why}; output: ${server.out.trim().slice(-600) || '(none)'}` };
}

/**
 * `shoal stop --name`, then make sure the whole process group is gone (procs.mjs).
 * Several clusters at once (D's hosts): every one is asked to stop and waited
 * for first, since stopServer() ends with a sweep that SIGKILLs every process
 * the bench started (a cluster still stopping would be killed by it).
 */
async function stopCluster(...sts) {
  const t0 = Date.now();
  const asked = await Promise.all(sts.map(async ({ server, name }) => {
    if (server.exited) return null;
    try {
      await run(process.execPath, [cli, 'stop', '--name', name], { env: clusterEnv, timeout: cfg.stopTimeoutMs });
      return null;
    } catch (e) {
      return (e.stderr || e.message || String(e)).trim().split('\n')[0];
    }
  }));
  if (sts.length > 1) await Promise.race([Promise.all(sts.map((st) => st.server.exitPromise)), sleep(3000, undefined, { ref: false })]);
  const out = [];
  for (const [i, { server }] of sts.entries()) {
    const info = await stopServer(server, 3000);
    const stopError = asked[i];
    out.push({ stopMs: Date.now() - t0, viaCli: !stopError, stopError, graceful: info.graceful, exit: info.exit, leftover: info.leftoverAfterExit, orphansKilled: info.orphansKilled });
  }
  return sts.length === 1 ? out[0] : out;
}

/** Pool of signed session cookies: GET /new without a cookie, cfg.poolSize times (or `count`, on `port`). */
async function makePool(tag, port = cfg.port, count = cfg.poolSize) {
  const r = await job('pool', { port, count }, 60000);
  if (r.cookies.length < count) throw new Error(`${tag}: only ${r.cookies.length}/${count} sessions made (${r.failed} failed: ${r.failures.join(', ')})`);
  return r.cookies;
}

async function cannon(opts) {
  const full = { port: cfg.port, connections: cfg.connections, timeoutMs: cfg.timeoutMs, ...opts };
  const cpu0 = cpuSample(ourPids());
  // With a rate: the paced (open loop) load instead of autocannon's closed loop.
  const r = await job(full.rate ? 'paced' : 'cannon', full, full.durationMs + cfg.timeoutMs * 2 + 20000);
  r.foreignCpu = foreignCores(cpu0, cpuSample(ourPids()));
  return r;
}

const sessionRow = (w) => ({ slot: w.slot, pid: w.pid, state: w.state, restarts: w.restarts, ...(w.sessions ?? {}) });
const maxOf = (xs) => { const v = xs.filter((x) => typeof x === 'number'); return v.length ? Math.max(...v) : null; };
const problems = []; // runtime problems seen (errors, resets, restarts, lost sessions), for the report

function noteProblems(tag, r, st) {
  const bad = [];
  if (r.errors) bad.push(`${r.errors} errors`);
  if (r.timeouts) bad.push(`${r.timeouts} timeouts`);
  if (r.resets) bad.push(`${r.resets} resets`);
  if (r.non2xx) bad.push(`${r.non2xx} non-2xx (${JSON.stringify(Object.fromEntries(Object.entries(r.statusCodes ?? {}).filter(([c]) => !c.startsWith('2'))))})`);
  const restarts = st?.workers?.reduce((n, w) => n + (w.restarts ?? 0), 0);
  if (restarts) bad.push(`${restarts} worker restarts`);
  if (bad.length) problems.push(`${tag}: ${bad.join(', ')}`);
}

// ---- A: reads, in process ----
/** micro.mjs in a fresh process, --runs times (a shared machine makes one run noisy); medians per case. */
async function partA() {
  const n = quick && !args.runs ? 1 : cfg.runs; // --quick: one run unless --runs says otherwise
  log(`A: session reads in process (10,000 sessions × 10 attributes), ${n} run${n > 1 ? 's' : ''}`);
  const runs = [];
  for (let i = 1; i <= n; i++) {
    await waitQuiet(cfg.idleWaitMs, `A run ${i}`);
    const cpu0 = cpuSample();
    // Tagged like the servers, so its CPU counts as ours, not as other load.
    const { stdout } = await run(process.execPath, [join(benchDir, 'sessions/micro.mjs'), ...(quick ? ['--quick'] : [])],
      { cwd: root, timeout: 180000, maxBuffer: 1 << 20, env: { ...process.env, BENCH_RUN_TAG: RUN_TAG } });
    const a = JSON.parse(stdout);
    a.foreignCpu = foreignCores(cpu0, cpuSample());
    runs.push(a);
    log(`A run ${i}: ${Object.entries(a.cases).map(([k, c]) => `${k} p50 ${c.p50Ns} ns p99 ${c.p99Ns} ns`).join(', ')}${a.foreignCpu >= BUSY ? ` — machine busy: ${a.foreignCpu} cores used by other processes` : ''}`);
  }
  const first = runs[0];
  const cases = {};
  for (const k of Object.keys(first.cases)) {
    const med = (m) => median(runs.map((r) => r.cases[k][m]));
    cases[k] = { ...first.cases[k], p50Ns: med('p50Ns'), p90Ns: med('p90Ns'), p99Ns: med('p99Ns'), meanNs: med('meanNs'),
      p50Range: [Math.min(...runs.map((r) => r.cases[k].p50Ns)), Math.max(...runs.map((r) => r.cases[k].p50Ns))] };
  }
  return { sessions: first.sessions, bytes: first.bytes, attributes: first.attributes, runs: runs.length, busy: runs.filter((r) => r.foreignCpu >= BUSY).length,
    foreignCpu: runs.map((r) => r.foreignCpu), cases, raw: runs };
}

// ---- B: fan-out under load ----
async function partB() {
  const tag = 'B';
  await waitQuiet(cfg.idleWaitMs, tag);
  log(`B: fastify + shoal/fastify, ${cfg.workers} workers, 50% /w 50% /r, ${cfg.connections} connections, ${cfg.durationMs / 1000} s`);
  const st = await startCluster(join(benchDir, 'sessions/app-fastify.mjs'));
  if (st.error) throw new Error(`B: cluster did not start: ${st.error}`);
  const out = { readyMs: st.readyMs };
  try {
    const cookies = await makePool(tag);
    const check = await job('check', { port: cfg.port, cookies, path: '/r' }, 60000);
    out.poolCheck = check;
    if (check['200'] !== cookies.length) problems.push(`B: pool check on /r: ${JSON.stringify(check)} (every session should answer 200)`);
    const paths = [{ path: '/w', weight: 1 }, { path: '/r', weight: 1 }];
    out.noDelay = st.noDelay;
    await cannon({ paths, cookies, durationMs: cfg.warmupMs, seed: 7 });
    // Lighter load first (its status window then holds none of the heavier run's samples).
    const light = await cannon({ paths, cookies, connections: cfg.lightConnections, durationMs: cfg.lightDurationMs, seed: 9 });
    const lightStatus = await statusOf(st.name);
    out.light = {
      load: light, workers: lightStatus.workers.map(sessionRow),
      // Each worker's ring holds 1024 samples; fewer than ~4 × 1024 writes may leave warm-up samples in it.
      windowClean: (light.built['/w'] ?? 0) >= 4 * 1024,
    };
    out.light.maxLagP99 = maxOf(out.light.workers.map((w) => w.lagP99));
    out.light.maxLagMax = maxOf(out.light.workers.map((w) => w.lagMax));
    out.light.maxSaveP99 = maxOf(out.light.workers.map((w) => w.saveP99));
    noteProblems(`B (${cfg.lightConnections} connections)`, light, lightStatus);
    log(`B ${cfg.lightConnections} connections: ${light.rps} req/s, p99 ${light.latency.p99} ms; lag p99 max ${out.light.maxLagP99} ms, lag max ${out.light.maxLagMax} ms, save p99 max ${out.light.maxSaveP99} ms`);
    // Poll the workers' lag figures while the load runs: each poll sees each worker's last 1024 samples.
    const polls = [];
    let polling = true;
    const poller = (async () => {
      for (let i = 0; polling && i < 600; i++) {
        await sleep(cfg.pollMs);
        if (!polling) break;
        const s = await statusOf(st.name).catch(() => null);
        if (s) polls.push({ atMs: Date.now(), workers: s.workers.map(sessionRow) });
      }
    })();
    let r;
    try {
      r = await cannon({ paths, cookies, durationMs: cfg.durationMs, seed: 11 });
    } finally {
      polling = false;
      await poller;
    }
    const status = await statusCli(st.name);
    out.load = r;
    out.workers = status.workers.map(sessionRow);
    out.hub = status.primary?.sessions ?? null;
    out.polls = polls;
    out.maxLagP99 = maxOf(out.workers.map((w) => w.lagP99));
    out.maxLagMax = maxOf(out.workers.map((w) => w.lagMax));
    out.maxSaveP99 = maxOf(out.workers.map((w) => w.saveP99));
    out.worstPollLagP99 = maxOf(polls.flatMap((p) => p.workers.map((w) => w.lagP99)));
    out.after = await probe('/');
    noteProblems(tag, r, status);
    log(`B ${cfg.connections} connections: ${r.rps} req/s, p99 ${r.latency.p99} ms, errors ${r.errors}, non-2xx ${r.non2xx}; lag p99 max ${out.maxLagP99} ms (worst poll ${out.worstPollLagP99} ms), lag max ${out.maxLagMax} ms, save p99 max ${out.maxSaveP99} ms${r.foreignCpu >= BUSY ? ` — machine busy: ${r.foreignCpu} cores used by other processes` : ''}`);
  } finally {
    out.stop = await stopCluster(st);
  }
  return out;
}

// ---- C: side by side ----
const contendersC = [
  { id: 'redis', label: 'express + express-session + connect-redis', app: 'sessions/app-express.mjs', redis: true,
    env: { BENCH_SESSION_STORE: 'redis', BENCH_REDIS_PREFIX: `${cfg.redisPrefix}sess:`, BENCH_REDIS_URL: cfg.redisUrl } },
  { id: 'express-shoal', label: 'express + express-session + shoal ShoalStore', app: 'sessions/app-express.mjs', env: { BENCH_SESSION_STORE: 'shoal' } },
  { id: 'fastify-shoal', label: 'fastify + shoal/fastify', app: 'sessions/app-fastify.mjs', env: {} },
];

/** A node-redis client to 127.0.0.1, or { error } (not installed, not running): never throws. */
async function redisClient() {
  let createClient;
  try {
    ({ createClient } = await import('redis'));
    await import('connect-redis');
  } catch (e) {
    return { error: `redis / connect-redis not installed in scripts/bench (npm --prefix scripts/bench install): ${e.message.split('\n')[0]}` };
  }
  const client = createClient({ url: cfg.redisUrl, socket: { connectTimeout: 1500, reconnectStrategy: false } });
  client.on('error', () => {}); // reported through connect()/ping() below
  try {
    await withTimeout(client.connect(), 3000, 'redis connect');
    await withTimeout(client.ping(), 3000, 'redis ping');
    return { client };
  } catch (e) {
    try { client.destroy(); } catch { /* never connected */ }
    return { error: `no Redis at ${cfg.redisUrl}: ${e.message}` };
  }
}

/** Deletes the keys this bench made (prefix shoal-bench:), never anything else; bounded. */
async function flushBenchKeys(client) {
  let n = 0;
  let batches = 0;
  for await (const keys of client.scanIterator({ MATCH: `${cfg.redisPrefix}*`, COUNT: 1000 })) {
    const list = Array.isArray(keys) ? keys : [keys];
    if (list.length) n += await client.unlink(list);
    if (++batches > 100000) break;
  }
  return n;
}

async function roundC(c, round, redis, results, unavailable) {
  const tag = `C round ${round}/${cfg.runs} ${c.id}`;
  await waitQuiet(cfg.idleWaitMs, tag);
  log(`${tag}: starting`);
  const st = await startCluster(join(benchDir, c.app), c.env);
  if (st.error) {
    if (!results.some((r) => r.contender === c.id && r.metrics)) unavailable[c.id] = `did not start: ${st.error}`;
    results.push({ round, contender: c.id, error: `start failed: ${st.error}` });
    log(`${tag}: FAILED to start: ${st.error.split('\n')[0]}`);
    return;
  }
  const entry = { round, contender: c.id, readyMs: st.readyMs, noDelay: st.noDelay };
  try {
    const cookies = await makePool(tag);
    const paths = [{ path: '/visits', weight: 1 }];
    await cannon({ paths, cookies, durationMs: cfg.warmupMs, seed: 3 });
    const r = await cannon({ paths, cookies, durationMs: cfg.durationMs, seed: 5 });
    const status = await statusOf(st.name).catch(() => null);
    entry.result = r;
    entry.metrics = { rps: r.rps, p50: r.latency.p50, p90: r.latency.p90, p99: r.latency.p99, max: r.latency.max, errors: r.errors + r.timeouts, non2xx: r.non2xx };
    if (status) {
      entry.workers = status.workers.map(sessionRow);
      entry.metrics.lagP99 = maxOf(entry.workers.map((w) => w.lagP99));
      entry.metrics.saveP99 = maxOf(entry.workers.map((w) => w.saveP99));
    }
    noteProblems(tag, r, status);
    const busy = r.foreignCpu >= BUSY ? ` — machine busy: ${r.foreignCpu} cores used by other processes` : '';
    log(`${tag}: ${r.rps} req/s, p50 ${r.latency.p50} p99 ${r.latency.p99} ms, errors ${r.errors}, timeouts ${r.timeouts}, non-2xx ${r.non2xx}${busy}`);
  } catch (e) {
    entry.error = e.message;
    log(`${tag}: FAILED: ${e.message.split('\n')[0]}`);
  } finally {
    entry.stop = await stopCluster(st);
    results.push(entry);
  }
}

async function partC() {
  const results = [];
  const unavailable = {};
  const redis = await redisClient();
  if (redis.error) {
    unavailable.redis = redis.error;
    log(`C: redis contender UNAVAILABLE: ${redis.error}`);
  }
  let flushed = { before: 0, after: 0 };
  redisInUse = redis.client ?? null;
  try {
    if (redis.client) flushed.before = await flushBenchKeys(redis.client);
    for (let round = 1; round <= cfg.runs; round++) {
      const order = contendersC.map((_, i) => contendersC[(i + round - 1) % contendersC.length]);
      for (const c of order) {
        if (unavailable[c.id]) continue;
        await roundC(c, round, redis, results, unavailable);
      }
    }
  } finally {
    redisInUse = null;
    if (redis.client) {
      flushed.after = await flushBenchKeys(redis.client).catch((e) => { log(`C: could not delete the bench's Redis keys: ${e.message}`); return null; });
      await redis.client.quit().catch(() => { try { redis.client.destroy(); } catch { /* closed */ } });
      log(`C: deleted ${flushed.after} Redis keys under ${cfg.redisPrefix}*`);
    }
  }
  // Medians per contender; busy runs (other processes on the CPUs) are left out when ≥ 2 clean remain.
  const agg = aggregateRounds(results, contendersC.map((c) => c.id), 'redis', ['lagP99', 'saveP99']);
  return { results, unavailable, agg, redisKeysDeleted: flushed };
}

// ---- main ----
const loadAtStart = await preflight(cfg.port, log);
const meta = machineInfo({ root, benchDir, command: `node scripts/bench/sessions.mjs ${process.argv.slice(2).join(' ')}`.trim(), jsonPath: relative(root, jsonPath) });
for (const [k, p] of [['redisClient', 'redis'], ['connectRedis', 'connect-redis']]) {
  try { meta[k] = JSON.parse(readFileSync(join(benchDir, 'node_modules', p, 'package.json'), 'utf8')).version; } catch { meta[k] = 'not installed'; }
}
for (const [k, p] of [['express', 'express'], ['expressSession', 'express-session'], ['fastify', 'fastify']]) {
  try { meta[k] = JSON.parse(readFileSync(join(root, 'node_modules', p, 'package.json'), 'utf8')).version; } catch { meta[k] = 'not installed'; }
}
/** When the measured build was made: the newest file under dist/runtime (the tree may be rebuilt while a bench runs). */
function distBuiltAt() {
  let newest = 0;
  const walk = (d, depth) => {
    if (depth > 6) return;
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p, depth + 1);
      else if (e.name.endsWith('.js')) newest = Math.max(newest, statSync(p).mtimeMs);
    }
  };
  try { walk(join(root, 'dist/runtime'), 0); } catch { return null; }
  return newest ? new Date(newest).toISOString() : null;
}
meta.distBuiltAt = distBuiltAt();
try {
  const { stdout } = await run('redis-server', ['--version'], { timeout: 3000 });
  meta.redisServer = /v=(\S+)/.exec(stdout)?.[1] ?? stdout.trim();
} catch { meta.redisServer = 'unknown'; }
log(`shoal session bench: ${cfg.workers} workers, ${cfg.runs} runs${quick ? ', quick' : ''}`);

let doc;
try {
  const A = parts.has('A') ? await partA() : null;
  await lg.start();
  const B = parts.has('B') ? await partB() : null;
  const C = parts.has('C') ? await partC() : null;
  const D = parts.has('D') ? await partD({
    cfg, quick, log, root, benchDir, tmp, startCluster, stopCluster, statusOf, makePool, cannon, waitQuiet, problems, noteProblems, sessionRow, maxOf,
    probeJob: (kind, opts, hardMs) => lgProbe.run(kind, opts, hardMs),
    loadPids: () => ({ load: lg.pid, probe: lgProbe.pid }),
    cpuMark: () => { const a = cpuSample(ourPids()); return () => foreignCores(a, cpuSample(ourPids())); },
  }) : null;
  lg.close();
  lgProbe.close();
  meta.loadavg = { start: Math.round(loadAtStart * 100) / 100, end: Math.round(os.loadavg()[0] * 100) / 100 };
  meta.elapsedS = Math.round((Date.now() - T0) / 1000);
  meta.redisServerD = D?.redis?.version ?? null;
  const builtEnd = distBuiltAt();
  if (builtEnd !== meta.distBuiltAt) {
    problems.push(`dist/runtime was rebuilt while the bench ran (newest file ${meta.distBuiltAt} at the start, ${builtEnd} at the end): parts may have measured different builds`);
    meta.distBuiltAtEnd = builtEnd;
  }
  doc = { meta, config: cfg, targets: TARGETS, A, B, C, D, problems };
} catch (e) {
  log(`FAILED: ${e.stack ?? e}`);
  cleanup();
  process.exit(1);
}

mkdirSync(dirname(jsonPath), { recursive: true });
writeFileSync(`${jsonPath}.tmp`, `${JSON.stringify(doc, null, 1)}\n`);
renameSync(`${jsonPath}.tmp`, jsonPath);
const { md, table } = renderSessionReport(doc);
writeFileSync(mdPath, `${md}\n`);
process.stdout.write(`${table}\n`);
log(`done in ${meta.elapsedS} s: ${relative(root, jsonPath)}, ${relative(root, mdPath)}`);
cleanup();
process.exit(0);
