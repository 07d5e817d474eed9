// Turns raw runs into medians, ratios to node:cluster RR, target verdicts, and
// the BENCHMARKS.md text.
import { median } from './stats.mjs';
import { COUNTERS, LABELS } from './scenarios.mjs';
import { BASELINE, SHOAL_BALANCERS } from './contenders.mjs';

/** Cores of CPU used by other processes during a run above which it is flagged. */
export const BUSY = 0.25;

/** agg[scenario][contender] = { runs, failed, errors: [..], m: { metric: {median,min,max} }, totals } */
export function aggregate(runs, scenarios, contenders) {
  const agg = {};
  for (const s of scenarios) {
    agg[s.id] = {};
    for (const c of contenders) {
      const mine = runs.filter((r) => r.scenario === s.id && r.contender === c.id);
      if (mine.length === 0) continue;
      const good = mine.filter((r) => r.metrics);
      // Runs disturbed by other processes (shared machine) are left out of the
      // medians when at least two undisturbed ones remain; counters always
      // include every run, since an error is an error whatever the load.
      const clean = good.filter((r) => !(r.result?.foreignCpu >= BUSY));
      const used = clean.length >= Math.min(2, good.length) ? clean : good;
      const m = {};
      const totals = Object.fromEntries(COUNTERS.map((k) => [k, 0]));
      for (const r of good) {
        for (const [k, v] of Object.entries(r.metrics)) if (COUNTERS.includes(k)) totals[k] += v ?? 0;
      }
      for (const r of used) {
        for (const [k, v] of Object.entries(r.metrics)) if (!COUNTERS.includes(k)) (m[k] ??= []).push(v);
      }
      for (const k of Object.keys(m)) {
        const xs = m[k].filter((x) => typeof x === 'number');
        m[k] = { median: median(xs), min: xs.length ? Math.min(...xs) : null, max: xs.length ? Math.max(...xs) : null };
      }
      agg[s.id][c.id] = {
        runs: good.length, used: used.length, busy: good.length - clean.length, failed: mine.length - good.length,
        errors: mine.filter((r) => r.error).map((r) => `round ${r.round}: ${r.error.split("\n")[0]}`),
        m, totals, requests: good.reduce((n, r) => n + (r.result?.ok ?? 0), 0),
      };
    }
  }
  return agg;
}

export function ratio(agg, scenario, contender, metric) {
  const v = agg[scenario]?.[contender]?.m[metric]?.median;
  const b = agg[scenario]?.[BASELINE]?.m[metric]?.median;
  if (typeof v !== 'number' || typeof b !== 'number' || b === 0) return null;
  return v / b;
}

const TARGETS = [
  { text: 'Keep-alive req/s ≥ 1.00× node:cluster', scenario: 'a', metric: 'rps', op: '>=', bound: 1.0 },
  { text: 'New-connection req/s ≥ 0.95× node:cluster', scenario: 'b', metric: 'rps', op: '>=', bound: 0.95 },
  { text: 'Heterogeneous open loop fast p90 ≤ 0.35× node:cluster (least-load)', scenario: 'c-open', metric: 'fastP90', op: '<=', bound: 0.35, only: 'least-load' },
  { text: 'Heterogeneous open loop fast p99 ≤ 0.8× node:cluster (least-load)', scenario: 'c-open', metric: 'fastP99', op: '<=', bound: 0.8, only: 'least-load' },
  { text: 'Stalling worker p99 no worse than node:cluster', scenario: 'd', metric: 'p99', op: '<=', bound: 1.0 },
];

/** rows[i] = { text, cells: { balancer: { value, verdict } } } */
export function evaluateTargets(agg, runs, unavailable = {}) {
  const rows = TARGETS.map((t) => ({
    text: t.text,
    cells: Object.fromEntries(SHOAL_BALANCERS.map((b) => {
      const r = ratio(agg, t.scenario, `shoal-${b}`, t.metric);
      if (unavailable[`shoal-${b}`]) return [b, { value: null, verdict: 'unavailable' }];
      if (r === null) return [b, { value: null, verdict: 'no data' }];
      const pass = t.op === '>=' ? r >= t.bound : r <= t.bound;
      const verdict = t.only && t.only !== b ? 'info' : pass ? 'met' : 'missed';
      // Widest ratio the runs allow (worst vs best run of each side): if the
      // bound lies inside it, the verdict is within run-to-run noise.
      const c = agg[t.scenario][`shoal-${b}`].m[t.metric];
      const base = agg[t.scenario][BASELINE].m[t.metric];
      const lo = c.min / base.max;
      const hi = base.min > 0 ? c.max / base.min : Infinity;
      const noisy = lo <= t.bound && t.bound <= hi;
      return [b, { value: `${r.toFixed(2)}×`, verdict, span: [lo, hi], noisy }];
    })),
  }));
  rows.push({
    text: 'Zero hung connections (requests that timed out, all scenarios)',
    cells: Object.fromEntries(SHOAL_BALANCERS.map((b) => {
      const mine = runs.filter((r) => r.contender === `shoal-${b}` && r.metrics);
      if (unavailable[`shoal-${b}`]) return [b, { value: null, verdict: 'unavailable' }];
      if (mine.length === 0) return [b, { value: null, verdict: 'no data' }];
      const hung = mine.reduce((n, r) => n + (r.metrics.timeouts ?? 0), 0);
      return [b, { value: `${hung} timeouts`, verdict: hung === 0 ? 'met' : 'missed' }];
    })),
  });
  return rows;
}

export function fmt(v, metric) {
  if (typeof v !== 'number') return '—';
  if (metric === 'rps') return String(Math.round(v));
  if (metric === 'slow') return Number.isInteger(v) ? String(v) : v.toFixed(1);
  if (Math.abs(v) >= 100) return String(Math.round(v));
  if (Math.abs(v) >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

function scenarioTable(s, agg, contenders) {
  const cols = s.main;
  const head = ['contender', ...cols.map((m) => LABELS[m] ?? m), `${LABELS[s.key] ?? s.key} range`, 'errors / timeouts / resets', 'runs'];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i === 0 ? ':--' : '--:')).join('|')}|`];
  for (const c of contenders) {
    const a = agg[s.id]?.[c.id];
    if (!a) continue;
    const cells = cols.map((m) => {
      const v = a.m[m]?.median;
      const r = c.id === BASELINE ? null : ratio(agg, s.id, c.id, m);
      return r === null ? fmt(v, m) : `${fmt(v, m)} (${r.toFixed(2)}×)`;
    });
    const k = a.m[s.key];
    const range = k ? `${fmt(k.min, s.key)}–${fmt(k.max, s.key)}` : '—';
    const t = a.totals;
    const notes = [a.busy && (a.used < a.runs ? `${a.runs - a.used} busy, left out` : `${a.busy} busy, kept`), a.failed && `+${a.failed} failed`].filter(Boolean);
    const runs = `${a.used}${notes.length ? ` (${notes.join(', ')})` : ''}`;
    lines.push(`| ${[c.label, ...cells, range, `${t.errors} / ${t.timeouts} / ${t.resets}`, runs].join(' | ')} |`);
  }
  return lines.join('\n');
}

function verdictCell(cell) {
  if (!cell || cell.value === null) return cell?.verdict ?? 'no data';
  const span = cell.span ? ` <sub>runs ${cell.span.map((x) => (Number.isFinite(x) ? x.toFixed(2) : '∞')).join('–')}×${cell.noisy ? ', within noise' : ''}</sub>` : '';
  if (cell.verdict === 'info') return `${cell.value} (info)${span}`;
  return `${cell.value} **${cell.verdict}**${span}`;
}

export function renderMarkdown({ meta, cfg, agg, targetRows, scenarios, contenders, runs, stops, unavailable }) {
  const L = [];
  const p = (...xs) => L.push(...xs);
  p('# Benchmarks', '');
  p(`Generated by \`${meta.command}\` on ${meta.date}.${cfg.quick ? ' **Quick mode**: short runs, indicative only — run the full benchmark for figures to quote.' : ''}`, '');
  p('Medians of the runs listed; in brackets, the ratio to node:cluster round robin (SCHED_RR, the Linux default) for the same scenario.');
  p('For req/s higher is better, for latencies lower is better. Counters (errors, timeouts, resets) are totals over all runs.');
  p(`A run during which other processes used ≥ ${BUSY} cores is "busy" (the machine is shared); busy runs are left out of the medians when at least two undisturbed runs remain${cfg.retryBusy ? ', and each busy run is repeated once' : ''}. The "runs" column counts the runs behind the medians.`, '');
  p('## Machine', '');
  p(`- CPU: ${meta.cpu} × ${meta.cores} cores, ${meta.memGiB} GiB memory, ${meta.os}`);
  p(`- Node ${meta.node}, PM2 ${meta.pm2}, autocannon ${meta.autocannon}, shoal ${meta.shoal}`);
  p(`- ${cfg.workers} workers per multi-process contender; load generator: one separate Node process on the same machine (it competes with the servers for the ${meta.cores} cores, as every contender's load does alike).`);
  const fc = runs.filter((r) => typeof r.result?.foreignCpu === 'number');
  const busy = fc.filter((r) => r.result.foreignCpu >= BUSY);
  p(`- Other load: 1-min load average ${meta.loadavg?.start ?? '?'} before the run, ${meta.loadavg?.end ?? '?'} after; during the measured runs other processes used a median ${fmt(median(fc.map((r) => r.result.foreignCpu)))} cores (max ${fmt(Math.max(0, ...fc.map((r) => r.result.foreignCpu)))}).`
    + (busy.length ? ` **${busy.length} of ${fc.length} runs saw ≥ ${BUSY} cores of other load** (${[...new Set(busy.map((r) => r.contender))].map((id) => `${id} ×${busy.filter((r) => r.contender === id).length}`).join(', ')}): the machine was shared, treat close ratios as noise.` : ''), '');
  p('## Targets (shoal vs node:cluster RR)', '');
  p(`| target | ${SHOAL_BALANCERS.map((b) => `shoal ${b}`).join(' | ')} |`, `|:--|${SHOAL_BALANCERS.map(() => ':--').join('|')}|`);
  for (const row of targetRows) p(`| ${row.text} | ${SHOAL_BALANCERS.map((b) => verdictCell(row.cells[b])).join(' | ')} |`);
  p('', 'Each cell: ratio of medians and verdict; below it, the widest ratio the runs allow (worst run against best run of each side). "Within noise" means the bound lies inside that span, so more or longer runs are needed before trusting the verdict.', '');
  if (Object.keys(unavailable).length) {
    for (const [id, why] of Object.entries(unavailable)) p(`- **${id}: unavailable** — ${why}`);
    p('');
  }
  p('## Results', '');
  for (const s of scenarios) {
    p(`### ${s.id}. ${s.title}`, '', `${s.describe(s.opts(cfg.quick), cfg)}; ${cfg.runs} run${cfg.runs === 1 ? '' : 's'} per contender.`, '');
    p(scenarioTable(s, agg, contenders), '');
    const errs = contenders.flatMap((c) => (agg[s.id]?.[c.id]?.errors ?? []).map((e) => `- ${c.label}, ${e}`));
    if (s.stall) {
      const bad = runs.filter((r) => r.scenario === s.id && r.metrics && (r.metrics.stalls < 1 || r.metrics.stallPids !== 1));
      p(bad.length === 0 ? 'Every run saw the stall happen in exactly one process (checked through the stall log).'
        : `Stall check failed in ${bad.length} run(s): ${bad.map((r) => `${r.contender} round ${r.round}: ${r.metrics.stalls} stalls from ${r.metrics.stallPids} pids`).join('; ')}.`, '');
    }
    if (errs.length) p('Failed runs:', '', ...errs, '');
  }
  p('## Start and stop', '');
  p('| contender | ready after (median ms) | stop after SIGTERM (median ms) | exited on SIGTERM | workers left behind |', '|:--|--:|--:|--:|--:|');
  for (const c of contenders) {
    const mine = stops.filter((x) => x.contender === c.id);
    if (mine.length === 0) continue;
    const left = mine.reduce((n, x) => n + x.leftoverAfterExit + x.orphansKilled.length, 0);
    p(`| ${c.label} | ${fmt(median(mine.map((x) => x.readyMs)))} | ${fmt(median(mine.map((x) => x.stopMs)))} | ${mine.filter((x) => x.graceful).length}/${mine.length} | ${left} |`);
  }
  p('', '## Method', '');
  p('- Contenders, all serving `scripts/bench/app.cjs` (plain `node:http`) on 127.0.0.1:', '');
  for (const c of contenders) p(`  - **${c.label}** (\`${c.id}\`): ${c.how}`);
  p('', '- Each round starts every contender afresh (rotating the order each round so drift hits all alike), warms it up, runs the scenarios back to back on it, then stops it with SIGTERM and waits until the port is free.');
  p('- Ready means GET / answered 200; for PM2 and shoal, also that every worker has answered (distinct pids from GET /stall) or 1 s has passed (the node:cluster launcher itself reports when all workers listen). A warm-up (keep-alive, then new-connection load) precedes the scenarios, and the load generator itself is warmed once at the start against a throwaway app.');
  p('- Keep-alive load is autocannon (its latencies come in whole milliseconds, hence the 0.00 and 1.00 ms figures in table a); the new-connection clients are a small raw-`net` client in the same load-generator process (one `Connection: close` request per TCP connection). Every request has a timeout, so a hung connection is counted as a timeout and never stalls the run.');
  p('- Open loop: requests leave on a fixed schedule whatever is outstanding; latency is measured from the actual send, and the generator\'s own lateness is recorded in the JSON as `lagP99`.');
  p('- The heavy/fast split uses a fixed-seed random 10 % so every contender gets the same sequence.', '');
  p('## How to reproduce', '');
  p('```sh', 'npm run bench                 # full: builds, installs scripts/bench deps, ~10-20 min', 'npm run bench -- --quick      # ~3 min smoke run', 'node scripts/bench/run.mjs --only cluster-rr,shoal --scenarios a,c --runs 5', '```', '');
  p('Options: `--quick`, `--workers N` (default: cores), `--runs N` (default 3), `--only id,...` (prefix match: `shoal`, `cluster`, `pm2`, `single`), `--scenarios a,b,c,d` (or `c-open`, `c-closed`), `--port P`, `--out file.json`, `--md file.md`, `--shoal path/to/cli.js` (another shoal build), `--idle-wait S` (before each contender and before repeating a busy run, wait up to S s for other processes to leave the CPUs alone; default 15, 0 with `--quick`; 0 also turns off repeating busy runs), `--render results.json` (rewrite BENCHMARKS.md from saved results, no measuring).');
  p(`Raw runs and medians: \`${meta.jsonPath}\`.`, '');
  return L.join('\n');
}
