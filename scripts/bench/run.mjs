#!/usr/bin/env node
// Benchmark harness: single process vs node:cluster (RR, SCHED_NONE) vs PM2 vs
// shoal (kernel accept: least-conn, least-load; handoff: least-conn,
// round-robin) on the same app, interleaved rounds, medians. See BENCHMARKS.md
// (generated) for the method.
//   node scripts/bench/run.mjs [--quick] [--workers N] [--runs N] [--only ids]
//                              [--scenarios a,b,c,d,e] [--port P] [--out f.json] [--md f.md]
//                              [--shoal cli.js] [--idle-wait S]
//   node scripts/bench/run.mjs --render results.json [--md f.md]   (rewrite the report only)
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { contenders as allContenders, pm2Cleanup, shoalStatus, startContender, stopContender } from './contenders.mjs';
import { CLK_TCK, cpuSample, foreignCores, killAllSync, preflight, procStat, waitPortFree } from './procs.mjs';
import { BUSY, aggregate, evaluateTargets, renderMarkdown } from './report.mjs';
import { selectScenarios } from './scenarios.mjs';
import { machineInfo } from './machine.mjs';
import { LoadGen } from './loadgen-client.mjs';
import { runSpread } from './spread.mjs';

const benchDir = dirname(fileURLToPath(import.meta.url));
const root = resolve(benchDir, '../..');
const T0 = Date.now();
const log = (msg) => process.stderr.write(`[${((Date.now() - T0) / 1000).toFixed(1).padStart(6)}s] ${msg}\n`);

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false }, workers: { type: 'string' }, runs: { type: 'string' },
    only: { type: 'string' }, scenarios: { type: 'string' }, port: { type: 'string' },
    out: { type: 'string' }, md: { type: 'string' }, shoal: { type: 'string' }, 'idle-wait': { type: 'string' }, render: { type: 'string' }, help: { type: 'boolean', short: 'h' },
  },
});
if (args.help) {
  console.log(readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').slice(5, 9).join('\n').replace(/\/\/ ?/g, ''));
  process.exit(0);
}

if (args.render) {
  // Re-render the markdown from a saved results file (no servers, no load).
  const doc = JSON.parse(readFileSync(args.render, 'utf8'));
  const scen = selectScenarios(doc.scenarios.map((s) => s.id).join(','));
  const agg = aggregate(doc.runs, scen, doc.contenders);
  const md = renderMarkdown({ ...doc, cfg: doc.config, agg, targetRows: evaluateTargets(agg, doc.runs, doc.unavailable, doc.stops), scenarios: scen });
  const out = resolve(args.md ?? join(root, 'BENCHMARKS.md'));
  writeFileSync(out, `${md}\n`);
  console.error(`wrote ${relative(root, out)} from ${args.render}`);
  process.exit(0);
}

const quick = args.quick;
const cfg = {
  quick,
  workers: Number(args.workers ?? os.availableParallelism()),
  runs: Number(args.runs ?? 3),
  port: Number(args.port ?? 39123),
  timeoutMs: quick ? 3000 : 5000, // per request: a hung request becomes a counted timeout
  warmupMs: quick ? 500 : 2000, // per contender start: JIT, connection paths
  genWarmupMs: quick ? 1500 : 5000, // once: the load generator's own JIT (its first seconds run ~40% slow)
  settleMs: 1000,
  gapMs: quick ? 50 : 500,
  readyTimeoutMs: 20000,
  stopGraceMs: quick ? 5000 : 10000,
  stallMs: 300, stallEveryMs: 2000, stallFirstMs: 200,
  // Shared machine: before each contender, wait up to this long for other processes to go quiet.
  idleWaitMs: Number(args['idle-wait'] ?? (quick ? 0 : 15)) * 1000,
};
// ...and repeat, once, a run that other processes disturbed anyway.
cfg.retryBusy = !quick && cfg.idleWaitMs > 0;
const scenarios = selectScenarios(args.scenarios);
// The rounds run the scenarios in turn on one start of each contender; scenario e starts each anew with its own worker count.
const roundScenarios = scenarios.filter((s) => !s.spread);
const spreadScenarios = scenarios.filter((s) => s.spread);
const want = args.only?.split(',').map((s) => s.trim()).filter(Boolean);
const pick = (list) => (want ? list.filter((c) => want.some((w) => c.id.startsWith(w))) : list); // `shoal` = all four, `shoal-kernel` = two
const contendersWith = (workers) => pick(allContenders({ root, benchDir, workers, shoalCli: args.shoal && resolve(args.shoal) }));
const contenders = contendersWith(cfg.workers);
if (contenders.length === 0) throw new Error(`--only ${args.only} matches no contender`);
const spreadWorkers = spreadScenarios[0]?.opts(quick).workers;
const spreadContenders = spreadWorkers ? contendersWith(spreadWorkers).filter((c) => c.multi) : [];
const jsonPath = resolve(args.out ?? join(benchDir, 'results/latest.json'));
const complete = !args.only && !args.scenarios;
const mdPath = args.md ? resolve(args.md) : complete ? join(root, 'BENCHMARKS.md') : null;

// ---- load generator: a separate, long-lived process driven over IPC ----
const lg = new LoadGen(join(benchDir, 'loadgen.mjs'), benchDir);
const job = (kind, opts, hardMs) => lg.run(kind, opts, hardMs);

// ---- cleanup on every way out ----
const tmp = mkdtempSync(join(os.tmpdir(), 'shoal-bench-'));
const gate = join(tmp, 'stall-gate');
let cleaned = false;
function cleanup() {
  if (cleaned) return;
  cleaned = true;
  killAllSync();
  lg.kill();
  for (const c of [...contenders, ...spreadContenders]) if (c.pm2) pm2Cleanup(c);
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
  // shoal's control sockets in a folder of this run's: no clash with clusters others run on a shared machine.
  SHOAL_RUNTIME_DIR: join(tmp, 'shoal-rt'),
};

function brief(s, m) {
  const e = `err ${m.errors} (timeouts ${m.timeouts}, resets ${m.resets})`;
  if (s.id === 'c-open') return `fast p50 ${m.fastP50} p90 ${m.fastP90} p99 ${m.fastP99} ms, heavy p99 ${m.heavyP99} ms, ${e}`;
  if (s.id === 'c-closed') return `${m.rps} req/s, fast p90 ${m.fastP90} p99 ${m.fastP99} ms, ${e}`;
  if (s.id === 'd') return `p50 ${m.p50} p99 ${m.p99} max ${m.max} ms, ${m.stalls} stalls, ${e}`;
  if (s.id === 'e') return `one by one ${m.oneCounts.join('/')}, burst ${m.burstCounts.join('/')}, ${e}`;
  const cpu = typeof m.cpuPerConn === 'number' ? `, primary ${m.cpuPerConn.toFixed(2)} µs/conn` : '';
  return `${m.rps} req/s, p99 ${m.p99} ms${cpu}, ${e}`;
}

/** What a shoal primary counted so far: which mode runs, and who accepted the connections. */
async function acceptCounts(c) {
  const p = (await shoalStatus(c, serverEnv))?.primary;
  return p ? { mode: p.accept, accepted: p.accepted, handedOff: p.handedOff, kernelAccepted: p.kernelAccepted } : null;
}

/**
 * The primary's CPU time over one run, in µs (utime + stime of all its
 * threads, read in clock ticks: the resolution is one tick, 1e6 / CLK_TCK µs).
 * Only for multi-process contenders: a single process serves too.
 */
function primaryCpuMark(c, st) {
  const t0 = c.multi ? procStat(st.primaryPid)?.ticks : undefined;
  return () => {
    const t1 = t0 === undefined ? undefined : procStat(st.primaryPid)?.ticks;
    if (t1 === undefined) return {};
    return { primaryCpuUs: ((t1 - t0) * 1e6) / CLK_TCK, primaryCpu: { pid: st.primaryPid, ticks: t1 - t0, clkTck: CLK_TCK } };
  };
}

async function runScenario(s, c, st) {
  const { server } = st;
  const opts = { port: cfg.port, timeoutMs: cfg.timeoutMs, ...s.opts(quick) };
  if (opts.timeoutCap) opts.timeoutMs = Math.max(1000, Math.min(opts.timeoutMs, opts.durationMs * opts.timeoutCap));
  const hardMs = opts.durationMs + cfg.timeoutMs * 2 + 15000;
  if (s.stall) { rmSync(`${gate}.log`, { force: true }); writeFileSync(gate, ''); }
  // Read before the CPU marks: the status request costs the primary a little too.
  const counts0 = s.primaryCpu && c.shoal ? await acceptCounts(c) : null;
  let result;
  const cpu0 = cpuSample([lg.pid]);
  const primaryCpu = s.primaryCpu ? primaryCpuMark(c, st) : null;
  try {
    result = s.spread
      ? await runSpread({ job, port: cfg.port, o: opts, timeoutMs: cfg.timeoutMs, readyAt: st.readyAt, status: c.shoal && (() => shoalStatus(c, serverEnv)) })
      : await job(s.job, opts, hardMs);
  } finally {
    if (s.stall) rmSync(gate, { force: true });
  }
  if (primaryCpu) Object.assign(result, primaryCpu());
  result.foreignCpu = foreignCores(cpu0, cpuSample([lg.pid]));
  const counts1 = counts0 && (await acceptCounts(c));
  if (counts1) result.acceptDuring = Object.fromEntries(Object.entries(counts1).map(([k, v]) => [k, k === 'mode' ? v : v - counts0[k]]));
  if (s.stall) {
    const lines = existsSync(`${gate}.log`) ? readFileSync(`${gate}.log`, 'utf8').trim().split('\n').filter(Boolean) : [];
    result.stalls = lines.length;
    result.stallPids = new Set(lines.map((l) => l.split(' ')[0])).size;
  }
  if (server.exited) {
    const out = server.lines.slice(-3).join(' | ').slice(-400);
    throw Object.assign(new Error(`server exited during the run (code ${server.exited.code}, signal ${server.exited.signal}); last output: ${out || '(none)'}`), { result });
  }
  return result;
}

async function warmup(ms) {
  await job('keepAlive', { port: cfg.port, connections: 50, durationMs: ms, timeoutMs: cfg.timeoutMs }, ms + 20000);
  await job('closed', { port: cfg.port, concurrency: 16, durationMs: ms / 2, timeoutMs: cfg.timeoutMs }, ms + 20000);
}

/** Warms the load generator once against a throwaway single-process app. */
async function warmGenerator() {
  const c = allContenders({ root, benchDir, workers: 1 }).find((x) => x.id === 'single');
  const st = await startContender(c, { port: cfg.port, env: serverEnv, readyTimeoutMs: cfg.readyTimeoutMs, settleMs: 0 });
  if (st.error) throw new Error(`cannot start the app to warm the load generator: ${st.error}`);
  try {
    await warmup(cfg.genWarmupMs);
  } finally {
    await stopContender(c, st.server, 2000);
  }
}

/** On a shared machine, wait (bounded) until other processes leave the CPUs alone. */
async function waitQuiet(maxMs, tag) {
  const end = Date.now() + maxMs;
  let said = false;
  while (Date.now() < end) {
    const a = cpuSample([lg.pid]);
    await sleep(500);
    const fc = foreignCores(a, cpuSample([lg.pid]));
    if (fc < BUSY) return;
    if (!said) log(`${tag}: other processes use ${fc} cores; waiting up to ${maxMs / 1000} s for quiet`);
    said = true;
  }
  log(`${tag}: machine still busy; going on (the runs are flagged)`);
}

/** One start of contender c: warm-up, then the scenarios in `list` back to back, then stop. */
async function roundFor(c, round, list, phase) {
  const tag = `${phase === 'spread' ? `spread ${c.workers} workers, ` : ''}round ${round}/${cfg.runs} ${c.id}`;
  if (!(await waitPortFree(cfg.port, 10000))) {
    log(`${tag}: SKIPPED: port ${cfg.port} still busy`);
    for (const s of list) runs.push({ round, contender: c.id, scenario: s.id, error: `port ${cfg.port} still busy` });
    return;
  }
  if (cfg.idleWaitMs > 0) await waitQuiet(cfg.idleWaitMs, tag);
  log(`${tag}: starting`);
  const st = await startContender(c, { port: cfg.port, env: serverEnv, readyTimeoutMs: cfg.readyTimeoutMs, settleMs: cfg.settleMs });
  if (st.error) {
    if (st.accept) stops.push({ round, phase, contender: c.id, accept: st.accept, failed: st.error });
    if (st.permanent || !everStarted.has(c.id)) {
      unavailable[c.id] = st.error;
      log(`${tag}: UNAVAILABLE: ${st.error}`);
    } else {
      log(`${tag}: failed to start: ${st.error}`);
      for (const s of list) runs.push({ round, contender: c.id, scenario: s.id, error: `start failed: ${st.error}` });
    }
    return;
  }
  everStarted.add(c.id);
  const { server } = st;
  if (st.accept || st.primaryPid !== server.pid) {
    log(`${tag}: ready in ${st.readyMs} ms${st.accept ? `, accept mode ${st.accept.mode}` : ''}${st.primaryPid !== server.pid ? `, primary pid ${st.primaryPid} (not the spawned ${server.pid})` : ''}`);
  }
  try {
    // Warm-up (JIT, connection paths) so the first scenario is not the cold one.
    await warmup(cfg.warmupMs);
    let broken = null;
    for (const s of list) {
      if (broken) {
        runs.push({ round, contender: c.id, scenario: s.id, error: broken });
        continue;
      }
      for (let attempt = 1; attempt <= (cfg.retryBusy ? 2 : 1); attempt++) {
        const t = Date.now();
        try {
          const result = await runScenario(s, c, st);
          const metrics = s.metrics(result);
          runs.push({ round, attempt, contender: c.id, scenario: s.id, at: new Date().toISOString(), metrics, result });
          const busy = result.foreignCpu >= BUSY ? ` — machine busy: ${result.foreignCpu} cores used by other processes` : '';
          log(`${tag} ${s.id}: ${brief(s, metrics)} [${((Date.now() - t) / 1000).toFixed(1)} s]${busy}`);
          if (!busy || attempt === 2 || !cfg.retryBusy) break;
          log(`${tag} ${s.id}: repeating once (busy run)`);
          await waitQuiet(cfg.idleWaitMs, tag);
        } catch (e) {
          runs.push({ round, attempt, contender: c.id, scenario: s.id, error: e.message, result: e.result });
          log(`${tag} ${s.id}: FAILED: ${e.message.split('\n')[0]}`);
          break;
        }
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
    stops.push({ round, phase, contender: c.id, workers: c.workers, readyMs: st.readyMs, workersSeen: st.workersSeen, accept: st.accept,
      primaryPid: st.primaryPid, primaryIsSpawned: st.primaryPid === server.pid, ...info });
    const notes = [!info.graceful && 'did NOT exit on SIGTERM', info.leftoverAfterExit && 'left workers behind',
      info.orphansKilled.length && `orphans killed: ${info.orphansKilled.join(',')}`].filter(Boolean);
    log(`${tag}: stopped in ${info.stopMs} ms${notes.length ? ` (${notes.join('; ')})` : ''}`);
  }
}

// ---- main ----
const loadAtStart = await preflight(cfg.port, log);
const meta = machineInfo({ root, benchDir, command: `node scripts/bench/run.mjs ${process.argv.slice(2).join(' ')}`.trim(), jsonPath: relative(root, jsonPath) });
meta.clkTck = CLK_TCK; // the resolution of the primary CPU figures
log(`shoal bench: ${contenders.map((c) => c.id).join(', ')} × scenarios ${scenarios.map((s) => s.id).join(', ')} × ${cfg.runs} runs, ${cfg.workers} workers${spreadWorkers ? ` (${spreadWorkers} in e)` : ''}${quick ? ', quick' : ''}`);
await lg.start();
log('warming up the load generator');
await warmGenerator();
for (const [list, cs, phase] of [[roundScenarios, contenders, 'rounds'], [spreadScenarios, spreadContenders, 'spread']]) {
  if (list.length === 0) continue;
  for (let round = 1; round <= cfg.runs; round++) {
    // Rotate the order each round so no contender always goes first or last.
    const order = cs.map((_, i) => cs[(i + round - 1) % cs.length]);
    for (const c of order) {
      if (unavailable[c.id]) continue;
      await roundFor(c, round, list, phase);
    }
  }
}
lg.close();
meta.loadavg = { start: Math.round(loadAtStart * 100) / 100, end: Math.round(os.loadavg()[0] * 100) / 100 };

const agg = aggregate(runs, scenarios, contenders);
const targetRows = evaluateTargets(agg, runs, unavailable, stops);
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
process.exit(0); // nothing left to wait for; don't let a stray timer hold the exit
