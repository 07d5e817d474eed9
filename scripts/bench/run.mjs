#!/usr/bin/env node
// Benchmark harness: single process vs node:cluster (RR, SCHED_NONE) vs PM2 vs
// shoal (least-conn, round-robin, least-load) on the same app, interleaved
// rounds, medians. See BENCHMARKS.md (generated) for the method.
//   node scripts/bench/run.mjs [--quick] [--workers N] [--runs N] [--only ids]
//                              [--scenarios a,b,c,d] [--port P] [--out f.json] [--md f.md]
import { fork } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { contenders as allContenders, pm2Cleanup, startContender, stopContender } from './contenders.mjs';
import { killAllSync, portFree, waitPortFree } from './procs.mjs';
import { aggregate, evaluateTargets, renderMarkdown } from './report.mjs';
import { selectScenarios } from './scenarios.mjs';
import { machineInfo } from './machine.mjs';

const benchDir = dirname(fileURLToPath(import.meta.url));
const root = resolve(benchDir, '../..');
const T0 = Date.now();
const log = (msg) => process.stderr.write(`[${((Date.now() - T0) / 1000).toFixed(1).padStart(6)}s] ${msg}\n`);

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false }, workers: { type: 'string' }, runs: { type: 'string' },
    only: { type: 'string' }, scenarios: { type: 'string' }, port: { type: 'string' },
    out: { type: 'string' }, md: { type: 'string' }, help: { type: 'boolean', short: 'h' },
  },
});
if (args.help) {
  console.log(readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').slice(4, 6).join('\n').replace(/\/\/ ?/g, ''));
  process.exit(0);
}

const quick = args.quick;
const cfg = {
  quick,
  workers: Number(args.workers ?? os.availableParallelism()),
  runs: Number(args.runs ?? 3),
  port: Number(args.port ?? 39123),
  timeoutMs: quick ? 3000 : 5000, // per request: a hung request becomes a counted timeout
  warmupMs: quick ? 300 : 1000,
  settleMs: 1000,
  gapMs: quick ? 100 : 500,
  readyTimeoutMs: 20000,
  stopGraceMs: quick ? 5000 : 10000,
  stallMs: 300, stallEveryMs: 2000, stallFirstMs: 200,
};
const scenarios = selectScenarios(args.scenarios);
let contenders = allContenders({ root, benchDir, workers: cfg.workers });
if (args.only) {
  const want = args.only.split(',').map((s) => s.trim()).filter(Boolean);
  contenders = contenders.filter((c) => want.some((w) => c.id === w || c.id.startsWith(`${w}-`) || c.id.startsWith(w)));
  if (contenders.length === 0) throw new Error(`--only ${args.only} matches no contender`);
}
const jsonPath = resolve(args.out ?? join(benchDir, 'results/latest.json'));
const complete = !args.only && !args.scenarios;
const mdPath = args.md ? resolve(args.md) : complete ? join(root, 'BENCHMARKS.md') : null;

// ---- load generator: a separate, long-lived process driven over IPC ----
let lg = null;
let jobId = 0;
const pending = new Map();
async function startLoadgen() {
  lg = fork(join(benchDir, 'loadgen.mjs'), [], { cwd: benchDir, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const me = lg;
  lg.on('message', (m) => {
    if (m.ready) return pending.get('ready')?.resolve();
    const p = pending.get(m.id);
    pending.delete(m.id);
    if (p) m.error ? p.reject(new Error(m.error)) : p.resolve(m.result);
  });
  lg.on('exit', () => {
    if (lg !== me) return;
    for (const p of pending.values()) p.reject(new Error('load generator exited'));
    pending.clear();
    lg = null;
  });
  await withTimeout(new Promise((res, rej) => pending.set('ready', { resolve: res, reject: rej })), 15000, 'load generator start');
  pending.delete('ready');
}
function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([promise, new Promise((_, rej) => { timer = setTimeout(() => rej(new Error(`${what}: no answer within ${ms} ms`)), ms); })])
    .finally(() => clearTimeout(timer));
}
/** Runs one job; if the generator itself hangs it is killed and restarted. */
async function job(kind, opts, hardMs) {
  if (!lg) await startLoadgen();
  const id = ++jobId;
  const p = new Promise((res, rej) => pending.set(id, { resolve: res, reject: rej }));
  lg.send({ id, kind, opts });
  try {
    return await withTimeout(p, hardMs, `load generator (${kind})`);
  } catch (e) {
    pending.delete(id);
    lg?.kill('SIGKILL');
    lg = null;
    throw e;
  }
}

// ---- cleanup on every way out ----
const tmp = mkdtempSync(join(os.tmpdir(), 'shoal-bench-'));
const gate = join(tmp, 'stall-gate');
let cleaned = false;
function cleanup() {
  if (cleaned) return;
  cleaned = true;
  killAllSync();
  lg?.kill('SIGKILL');
  for (const c of contenders) if (c.pm2) pm2Cleanup(c);
  rmSync(tmp, { recursive: true, force: true });
}
process.on('exit', cleanup);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    log(`${sig}: stopping every server and exiting`);
    cleanup();
    process.exit(128 + os.constants.signals[sig]);
  });
}

// ---- one contender, one round ----
const runs = [];
const stops = [];
const unavailable = {};
const everStarted = new Set();
const serverEnv = {
  ...process.env, PORT: String(cfg.port), HOST: '127.0.0.1', BENCH_STALL: '1', BENCH_STALL_GATE: gate,
  BENCH_STALL_MS: String(cfg.stallMs), BENCH_STALL_EVERY_MS: String(cfg.stallEveryMs), BENCH_STALL_FIRST_MS: String(cfg.stallFirstMs),
};

function brief(s, m) {
  const e = `err ${m.errors} (timeouts ${m.timeouts}, resets ${m.resets})`;
  if (s.id === 'c-open') return `fast p50 ${m.fastP50} p90 ${m.fastP90} p99 ${m.fastP99} ms, heavy p99 ${m.heavyP99} ms, ${e}`;
  if (s.id === 'c-closed') return `${m.rps} req/s, fast p90 ${m.fastP90} p99 ${m.fastP99} ms, ${e}`;
  if (s.id === 'd') return `p50 ${m.p50} p99 ${m.p99} max ${m.max} ms, ${m.stalls} stalls, ${e}`;
  return `${m.rps} req/s, p99 ${m.p99} ms, ${e}`;
}

async function runScenario(s, c, round, server) {
  const opts = { port: cfg.port, timeoutMs: cfg.timeoutMs, ...s.opts(quick) };
  const hardMs = opts.durationMs + cfg.timeoutMs * 2 + 15000;
  if (s.stall) { rmSync(`${gate}.log`, { force: true }); writeFileSync(gate, ''); }
  let result;
  try {
    result = await job(s.job, opts, hardMs);
  } finally {
    if (s.stall) rmSync(gate, { force: true });
  }
  if (s.stall) {
    const lines = existsSync(`${gate}.log`) ? readFileSync(`${gate}.log`, 'utf8').trim().split('\n').filter(Boolean) : [];
    result.stalls = lines.length;
    result.stallPids = new Set(lines.map((l) => l.split(' ')[0])).size;
  }
  if (server.exited) throw Object.assign(new Error(`server exited during the run (code ${server.exited.code})`), { result });
  return result;
}

async function roundFor(c, round) {
  const tag = `round ${round}/${cfg.runs} ${c.id}`;
  if (!(await waitPortFree(cfg.port, 10000))) throw new Error(`port ${cfg.port} still busy before ${tag}`);
  log(`${tag}: starting`);
  const st = await startContender(c, { port: cfg.port, env: serverEnv, readyTimeoutMs: cfg.readyTimeoutMs, settleMs: cfg.settleMs });
  if (st.error) {
    if (st.permanent || !everStarted.has(c.id)) {
      unavailable[c.id] = st.error;
      log(`${tag}: UNAVAILABLE: ${st.error}`);
    } else {
      log(`${tag}: failed to start: ${st.error}`);
      for (const s of scenarios) runs.push({ round, contender: c.id, scenario: s.id, error: `start failed: ${st.error}` });
    }
    return;
  }
  everStarted.add(c.id);
  const { server } = st;
  try {
    // Warm-up (JIT, connection paths) so the first scenario is not the cold one.
    await job('keepAlive', { port: cfg.port, connections: 10, durationMs: cfg.warmupMs, timeoutMs: cfg.timeoutMs }, cfg.warmupMs + 20000);
    await job('closed', { port: cfg.port, concurrency: 8, durationMs: cfg.warmupMs / 3, timeoutMs: cfg.timeoutMs }, cfg.warmupMs + 20000);
    let broken = null;
    for (const s of scenarios) {
      if (broken) {
        runs.push({ round, contender: c.id, scenario: s.id, error: broken });
        continue;
      }
      const t = Date.now();
      try {
        const result = await runScenario(s, c, round, server);
        const metrics = s.metrics(result);
        runs.push({ round, contender: c.id, scenario: s.id, at: new Date().toISOString(), metrics, result });
        log(`${tag} ${s.id}: ${brief(s, metrics)} [${((Date.now() - t) / 1000).toFixed(1)} s]`);
      } catch (e) {
        runs.push({ round, contender: c.id, scenario: s.id, error: e.message, result: e.result });
        log(`${tag} ${s.id}: FAILED: ${e.message}`);
      }
      const probe = await job('probe', { port: cfg.port }, 15000).catch((e) => ({ ok: false, outcomes: e.message }));
      if (!probe.ok) {
        broken = `server stopped answering after scenario ${s.id}: ${JSON.stringify(probe.outcomes)}`;
        log(`${tag}: ${broken}`);
      }
      await sleep(cfg.gapMs);
    }
  } finally {
    const info = await stopContender(c, server, cfg.stopGraceMs);
    stops.push({ round, contender: c.id, readyMs: st.readyMs, workersSeen: st.workersSeen, ...info });
    const notes = [!info.graceful && 'did NOT exit on SIGTERM', info.leftoverAfterExit && 'left workers behind',
      info.orphansKilled.length && `orphans killed: ${info.orphansKilled.join(',')}`].filter(Boolean);
    log(`${tag}: stopped in ${info.stopMs} ms${notes.length ? ` (${notes.join('; ')})` : ''}`);
  }
}

// ---- main ----
if (!(await portFree(cfg.port))) {
  console.error(`port ${cfg.port} is in use; pick another with --port`);
  process.exit(1);
}
const meta = machineInfo({ root, benchDir, command: `node scripts/bench/run.mjs ${process.argv.slice(2).join(' ')}`.trim(), jsonPath: relative(root, jsonPath) });
log(`shoal bench: ${contenders.map((c) => c.id).join(', ')} × scenarios ${scenarios.map((s) => s.id).join(', ')} × ${cfg.runs} runs, ${cfg.workers} workers${quick ? ', quick' : ''}`);
await startLoadgen();
for (let round = 1; round <= cfg.runs; round++) {
  // Rotate the order each round so no contender always goes first or last.
  const order = contenders.map((_, i) => contenders[(i + round - 1) % contenders.length]);
  for (const c of order) {
    if (unavailable[c.id]) continue;
    await roundFor(c, round);
  }
}
lg?.disconnect();

const agg = aggregate(runs, scenarios, contenders);
const targetRows = evaluateTargets(agg, runs);
const doc = { meta, config: cfg, contenders: contenders.map(({ id, label, how }) => ({ id, label, how })),
  scenarios: scenarios.map((s) => ({ id: s.id, title: s.title, opts: s.opts(quick) })), unavailable, medians: agg, targets: targetRows, stops, runs };
mkdirSync(dirname(jsonPath), { recursive: true });
writeFileSync(`${jsonPath}.tmp`, `${JSON.stringify(doc, null, 1)}\n`);
renameSync(`${jsonPath}.tmp`, jsonPath); // atomic: a reader never sees half a file
const md = renderMarkdown({ meta, cfg, agg, targetRows, scenarios, contenders, runs, stops, unavailable });
if (mdPath) writeFileSync(mdPath, `${md}\n`);
process.stdout.write(`${md}\n`);
log(`done: ${relative(root, jsonPath)}${mdPath ? `, ${relative(root, mdPath)}` : ' (BENCHMARKS.md not rewritten for a partial run; pass --md to write one)'}`);
cleanup();
