// Turns raw runs into medians, ratios to node:cluster RR, target verdicts, and
// the BENCHMARKS.md text.
import { median } from './stats.mjs';
import { COUNTERS, LABELS } from './scenarios.mjs';
import { BASELINE, SHOAL } from './contenders.mjs';
import { fmt, ratio, runsCell, times } from './figures.mjs';
import { missedLines, targetsTable } from './targets.mjs';
import { spreadNotes, spreadTable } from './report-spread.mjs';
import { methodLines } from './report-method.mjs';

export { evaluateTargets } from './targets.mjs';

/** Cores of CPU used by other processes during a run above which it is flagged. */
export const BUSY = 0.25;

/** Median that keeps Infinity (an unbounded ratio), unlike stats.median. */
function medianOf(xs) {
  if (xs.length === 0) return null;
  const v = [...xs].sort((a, b) => (a === b ? 0 : a - b));
  const h = v.length >> 1;
  return v.length % 2 ? v[h] : (v[h - 1] + v[h]) / 2;
}

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
        for (const [k, v] of Object.entries(r.metrics)) {
          if (COUNTERS.includes(k) || Array.isArray(v)) continue; // arrays (per-worker counts) are shown per run
          (m[k] ??= []).push(v === null && s.unbounded?.includes(k) ? Infinity : v);
        }
      }
      for (const k of Object.keys(m)) {
        const xs = m[k].filter((x) => typeof x === 'number' && !Number.isNaN(x));
        m[k] = { median: medianOf(xs), min: xs.length ? Math.min(...xs) : null, max: xs.length ? Math.max(...xs) : null };
      }
      Object.assign(m, s.derive?.(m));
      agg[s.id][c.id] = {
        runs: good.length, used: used.length, busy: good.length - clean.length, failed: mine.length - good.length,
        errors: mine.filter((r) => r.error).map((r) => `round ${r.round}: ${r.error.split("\n")[0]}`),
        m, totals, requests: good.reduce((n, r) => n + (r.result?.ok ?? 0), 0),
      };
    }
  }
  return agg;
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
      return r === null ? fmt(v, m) : `${fmt(v, m)} (${times(r)})`;
    });
    const k = a.m[s.key];
    const range = k ? `${fmt(k.min, s.key)}–${fmt(k.max, s.key)}` : '—';
    const t = a.totals;
    lines.push(`| ${[c.label, ...cells, range, `${t.errors} / ${t.timeouts} / ${t.resets}`, runsCell(a)].join(' | ')} |`);
  }
  return lines.join('\n');
}

/**
 * Under table b: the tick resolution of the CPU figures, and who accepted the
 * connections during b in each shoal contender (kernel mode: the workers).
 */
function primaryCpuNotes(s, runs, contenders) {
  const mine = runs.filter((r) => r.scenario === s.id && r.result?.primaryCpu && r.result.ok > 0);
  const notes = [];
  if (mine.length) {
    const tick = 1e6 / mine[0].result.primaryCpu.clkTck;
    const worst = Math.max(...mine.map((r) => tick / r.result.ok));
    notes.push(`Primary CPU is read in clock ticks of ${fmt(tick / 1000)} ms, so a run's µs/conn is good to about ±${fmt(worst)} µs at worst (one tick over the fewest connections of any run here).`);
  }
  const during = contenders.filter((c) => c.id.startsWith('shoal-')).map((c) => {
    const xs = runs.filter((r) => r.scenario === s.id && r.contender === c.id && r.result?.acceptDuring).map((r) => r.result.acceptDuring);
    if (xs.length === 0) return null;
    const med = (k) => fmt(median(xs.map((x) => x[k])), 'rps');
    return `${c.label}: ${[...new Set(xs.map((x) => x.mode))].join('/')} mode, primary accepted ${med('accepted')} and handed off ${med('handedOff')}, workers took ${med('kernelAccepted')} from the kernel`;
  }).filter(Boolean);
  if (during.length) notes.push(`During b (medians per run, from \`shoal status --json\` before and after): ${during.join('; ')}.`);
  return notes;
}

export function renderMarkdown({ meta, cfg, agg, targetRows, scenarios, contenders, runs, stops, unavailable }) {
  const L = [];
  const p = (...xs) => L.push(...xs);
  p('# Benchmarks', '');
  p(`Generated by \`${meta.command}\` on ${meta.date}.${cfg.quick ? ' **Quick mode**: short runs, indicative only — run the full benchmark for figures to quote.' : ''}`, '');
  p('Medians of the runs listed; in brackets, the ratio to node:cluster round robin (SCHED_RR, the Linux default) for the same scenario.');
  p('For req/s higher is better, for latencies and CPU lower is better. Counters (errors, timeouts, resets) are totals over all runs.');
  p(`A run during which other processes used ≥ ${BUSY} cores is "busy" (the machine is shared); busy runs are left out of the medians when at least two undisturbed runs remain${cfg.retryBusy ? ', and each busy run is repeated once' : ''}. The "runs" column counts the runs behind the medians.`, '');
  p('## Machine', '');
  p(`- CPU: ${meta.cpu} × ${meta.cores} cores, ${meta.memGiB} GiB memory, ${meta.os}`);
  p(`- Node ${meta.node}, PM2 ${meta.pm2}, autocannon ${meta.autocannon}, shoal ${meta.shoal}`);
  const spreadS = scenarios.find((s) => s.spread);
  p(`- ${cfg.workers} workers per multi-process contender${spreadS ? ` (${spreadS.opts(cfg.quick).workers} in scenario e)` : ''}; load generator: one separate Node process on the same machine (it competes with the servers for the ${meta.cores} cores, as every contender's load does alike).`);
  const fc = runs.filter((r) => typeof r.result?.foreignCpu === 'number');
  const busy = fc.filter((r) => r.result.foreignCpu >= BUSY);
  p(`- Other load: 1-min load average ${meta.loadavg?.start ?? '?'} before the run, ${meta.loadavg?.end ?? '?'} after; during the measured runs other processes used a median ${fmt(median(fc.map((r) => r.result.foreignCpu)))} cores (max ${fmt(Math.max(0, ...fc.map((r) => r.result.foreignCpu)))}).`
    + (busy.length ? ` **${busy.length} of ${fc.length} runs saw ≥ ${BUSY} cores of other load** (${[...new Set(busy.map((r) => r.contender))].map((id) => `${id} ×${busy.filter((r) => r.contender === id).length}`).join(', ')}): the machine was shared, treat close ratios as noise.` : ''), '');
  p('## Targets (issue 12: shoal vs node:cluster RR)', '');
  p(...targetsTable(targetRows));
  p('', 'Each cell: the figure (a ratio of medians to node:cluster RR, or for e the median itself) and its verdict; below it, the widest figure the runs allow (for ratios, worst run against best run of each side). "Within noise" means the bound lies inside that span, so more or longer runs are needed before trusting the verdict. The ceiling row is no target: it is what the measured price per connection allows.', '');
  const missed = missedLines(targetRows);
  if (missed.length) p('### Where a target is missed', '', ...missed, '');
  if (Object.keys(unavailable).length) {
    for (const [id, why] of Object.entries(unavailable)) p(`- **${SHOAL.find((x) => x.id === id)?.label ?? id}: not measured** — ${why}`);
    p('');
  }
  p('## Results', '');
  for (const s of scenarios) {
    const runsNote = `${cfg.runs} run${cfg.runs === 1 ? '' : 's'} per contender`;
    p(`### ${s.id}. ${s.title}`, '', `${s.describe(s.opts(cfg.quick), cfg)}; ${runsNote}.`, '');
    p(s.spread ? spreadTable(s, agg, contenders, runs) : scenarioTable(s, agg, contenders), '');
    const errs = contenders.flatMap((c) => (agg[s.id]?.[c.id]?.errors ?? []).map((e) => `- ${c.label}, ${e}`));
    if (s.primaryCpu) p(...primaryCpuNotes(s, runs, contenders).flatMap((n) => [n, '']));
    if (s.spread) {
      const notes = spreadNotes(s, runs);
      if (notes.length) p('Notes:', '', ...notes.map((n) => `- ${n}`), '');
    }
    if (s.stall) {
      const bad = runs.filter((r) => r.scenario === s.id && r.metrics && (r.metrics.stalls < 1 || r.metrics.stallPids !== 1));
      p(bad.length === 0 ? 'Every run saw the stall happen in exactly one process (checked through the stall log).'
        : `Stall check failed in ${bad.length} run(s): ${bad.map((r) => `${r.contender} round ${r.round}: ${r.metrics.stalls} stalls from ${r.metrics.stallPids} pids`).join('; ')}.`, '');
    }
    if (errs.length) p('Failed runs:', '', ...errs, '');
  }
  p(`## Start and stop (${cfg.workers} workers)`, '');
  p('| contender | ready after (median ms) | stop after SIGTERM (median ms) | exited on SIGTERM | workers left behind |', '|:--|--:|--:|--:|--:|');
  for (const c of contenders) {
    const mine = stops.filter((x) => x.contender === c.id && x.phase !== 'spread' && x.stopMs !== undefined);
    if (mine.length === 0) continue;
    const left = mine.reduce((n, x) => n + x.leftoverAfterExit + x.orphansKilled.length, 0);
    p(`| ${c.label} | ${fmt(median(mine.map((x) => x.readyMs)))} | ${fmt(median(mine.map((x) => x.stopMs)))} | ${mine.filter((x) => x.graceful).length}/${mine.length} | ${left} |`);
  }
  p('', ...methodLines({ meta, cfg, contenders, scenarios }));
  return L.join('\n');
}
