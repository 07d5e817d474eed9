// Issue 12's targets for shoal, judged per shoal contender against the
// medians (ratios to node:cluster RR, or absolute bounds for the spread).
import { BASELINE, SHOAL } from './contenders.mjs';
import { fmt, ratio, times } from './figures.mjs';

const leastLoad = (id) => id.endsWith('least-load');

const TARGETS = [
  { text: 'Primary CPU per connection (b) ≤ 0.2× node:cluster RR', scenario: 'b', metric: 'cpuPerConn', op: '<=', bound: 0.2 },
  { text: 'New-connection req/s (b) ≥ 1.3× node:cluster RR', scenario: 'b', metric: 'rps', op: '>=', bound: 1.3 },
  { text: 'Keep-alive req/s (a) ≥ 1.0× node:cluster RR', scenario: 'a', metric: 'rps', op: '>=', bound: 1.0 },
  { text: 'Heterogeneous open loop fast p90 (c-open) ≤ 0.35× node:cluster RR (least-load; info for the others)', scenario: 'c-open', metric: 'fastP90', op: '<=', bound: 0.35, only: leastLoad },
  { text: 'Heterogeneous open loop fast p99 (c-open) ≤ 0.8× node:cluster RR (least-load; info for the others)', scenario: 'c-open', metric: 'fastP99', op: '<=', bound: 0.8, only: leastLoad },
  { text: 'Stalling worker p99 (d) ≤ 1.0× node:cluster RR', scenario: 'd', metric: 'p99', op: '<=', bound: 1.0 },
  { text: 'Spread over 4 workers (e), 100 connections one by one: max/min ≤ 1.25', scenario: 'e', metric: 'oneMaxMin', op: '<=', bound: 1.25, absolute: true },
  { text: 'Spread over 4 workers (e), 100 connections at once: largest share ≤ 35 %', scenario: 'e', metric: 'burstShare', op: '<=', bound: 35, absolute: true, unit: ' %' },
];

const noData = (unavailable, id) => ({ value: null, verdict: unavailable[id] ? 'unavailable' : 'no data' });

/**
 * A target's figure for one contender with the range its runs allow: the
 * median itself for an absolute bound; for a ratio, the ratio of medians and
 * the widest ratio the runs allow (worst vs best run of each side).
 */
function figure(t, agg, id) {
  const c = agg[t.scenario]?.[id]?.m[t.metric];
  if (t.absolute) {
    if (typeof c?.median !== 'number') return null;
    const show = (x) => `${fmt(x, t.metric)}${t.unit ?? ''}`;
    return { value: c.median, lo: c.min, hi: c.max, show, range: `${show(c.min)} – ${show(c.max)}` };
  }
  const value = ratio(agg, t.scenario, id, t.metric);
  if (value === null) return null;
  const base = agg[t.scenario][BASELINE].m[t.metric];
  const lo = base.max > 0 ? c.min / base.max : Infinity;
  const hi = base.min > 0 ? c.max / base.min : Infinity;
  return { value, lo, hi, show: times, range: `${fmt(lo)}–${times(hi)}` };
}

/** One target for one contender: the figure, met/missed/info, and whether the runs' range straddles the bound. */
function judge(t, agg, id, unavailable) {
  const f = unavailable[id] ? null : figure(t, agg, id);
  if (!f) return noData(unavailable, id);
  const pass = t.op === '>=' ? f.value >= t.bound : f.value <= t.bound;
  const noisy = f.lo <= t.bound && t.bound <= f.hi;
  return {
    value: f.show(f.value), verdict: t.only && !t.only(id) ? 'info' : pass ? 'met' : 'missed',
    span: `runs ${f.range}${noisy ? ', within noise' : ''}`,
  };
}

/** Which accept mode each start of a shoal contender reported, against the mode it was started for. */
function acceptRow(stops) {
  return {
    text: 'Accept mode each start reported (its "accept mode: …" log line) is the one asked for',
    cells: Object.fromEntries(SHOAL.map((x) => {
      const seen = stops.filter((s) => s.contender === x.id && s.accept);
      if (seen.length === 0) return [x.id, { value: null, verdict: 'no data' }];
      const modes = {};
      for (const s of seen) modes[s.accept.mode] = (modes[s.accept.mode] ?? 0) + 1;
      const fallback = seen.find((s) => s.accept.fallback)?.accept.fallback;
      const value = Object.entries(modes).map(([m, n]) => `${m} ×${n}`).join(', ') + (fallback ? ` (self-test: ${fallback})` : '');
      return [x.id, { value, verdict: seen.every((s) => s.accept.mode === x.accept) ? 'met' : 'missed' }];
    })),
  };
}

/** Info: what the primary could take at one full core, at its measured price per connection. */
function ceilingRow(agg, unavailable) {
  const c = (id) => agg.b?.[id]?.m.ceiling;
  const base = c(BASELINE)?.median;
  return {
    text: `Ceiling: new connections/s the primary could take at one full core, 1e6 / (µs per connection) (node:cluster RR: ${fmt(base, 'ceiling')}/s)`,
    cells: Object.fromEntries(SHOAL.map((x) => {
      const m = c(x.id);
      if (unavailable[x.id] || typeof m?.median !== 'number') return [x.id, noData(unavailable, x.id)];
      return [x.id, { value: `${fmt(m.median, 'ceiling')}/s`, verdict: 'info', span: `runs ${fmt(m.min, 'ceiling')}–${fmt(m.max, 'ceiling')}` }];
    })),
  };
}

/**
 * What the harness can say about a missed target: noise, other load, and what
 * the accept mode implies (from the runs' status counters). The rest is for
 * whoever reads the tables.
 */
function whyMissed(t, agg, x, runs, cell) {
  const why = [];
  if (/within noise/.test(cell.span ?? '')) why.push('the bound lies within run-to-run noise');
  const busy = [x.id, ...(t.absolute ? [] : [BASELINE])].map((id) => agg[t.scenario]?.[id]?.busy ?? 0);
  if (busy.some(Boolean)) why.push(`busy runs (other load on the machine): ${busy[0]} of its${t.absolute ? '' : `, ${busy[1]} of node:cluster RR's`}`);
  const handedOff = runs.filter((r) => r.scenario === 'b' && r.contender === x.id && r.result?.acceptDuring).map((r) => r.result.acceptDuring.handedOff);
  if (t.scenario === 'b' && x.accept === 'handoff') why.push('in handoff mode the primary accepts every connection and passes it over IPC, the same work as node:cluster RR\'s primary (the CPU and new-connection targets are kernel mode\'s)');
  if (t.metric === 'cpuPerConn' && x.accept === 'kernel' && handedOff.length) {
    why.push(`its primary handed off at most ${Math.max(...handedOff)} connections in a run of b, so its CPU goes to the workers' load reports and the accept floors it sends back, whose rate rises with the connection rate`);
  }
  if (t.scenario === 'a') {
    why.push(`a shoal worker accounts every request (for status, metrics and the drain), which node:cluster's do not${x.balancer === 'least-load' && x.accept === 'kernel' ? ', and least-load\'s gate also re-decides its acceptor on requests (once per turn of the loop)' : ''}`);
  }
  if (t.scenario === 'e') why.push('per-worker counts in table e');
  return why;
}

/** rows[i] = { text, cells: { contenderId: { value, verdict, span, why } } } */
export function evaluateTargets(agg, runs, unavailable = {}, stops = []) {
  const rows = [acceptRow(stops)];
  for (const t of TARGETS) {
    rows.push({
      text: t.text,
      cells: Object.fromEntries(SHOAL.map((x) => {
        const cell = judge(t, agg, x.id, unavailable);
        return [x.id, cell.verdict === 'missed' ? { ...cell, why: whyMissed(t, agg, x, runs, cell) } : cell];
      })),
    });
  }
  rows.splice(2, 0, ceilingRow(agg, unavailable));
  rows.push({
    text: 'Zero hung connections (requests that timed out, all scenarios)',
    cells: Object.fromEntries(SHOAL.map((x) => {
      const mine = runs.filter((r) => r.contender === x.id && r.metrics);
      if (unavailable[x.id] || mine.length === 0) return [x.id, noData(unavailable, x.id)];
      const hung = mine.reduce((n, r) => n + (r.metrics.timeouts ?? 0), 0);
      return [x.id, { value: `${hung} timeouts`, verdict: hung === 0 ? 'met' : 'missed' }];
    })),
  });
  return rows;
}

function verdictCell(cell) {
  if (!cell || cell.value === null) return cell?.verdict ?? 'no data';
  const span = cell.span ? ` <sub>${cell.span}</sub>` : '';
  if (cell.verdict === 'info') return `${cell.value} (info)${span}`;
  return `${cell.value} **${cell.verdict}**${span}`;
}

/** One line per missed target: where, by how much, and what the harness knows of why. */
export function missedLines(rows) {
  const lines = [];
  for (const row of rows) {
    for (const x of SHOAL) {
      const c = row.cells[x.id];
      if (c?.verdict !== 'missed') continue;
      const why = c.why?.length ? c.why.join('; ') : 'nothing the harness can name; see the tables below';
      lines.push(`- **${x.label}**, ${row.text}: ${c.value}. Why: ${why}.`);
    }
  }
  return lines;
}

/** The targets table, one column per shoal contender. */
export function targetsTable(rows) {
  return [
    `| target | ${SHOAL.map((x) => x.label).join(' | ')} |`, `|:--|${SHOAL.map(() => ':--').join('|')}|`,
    ...rows.map((row) => `| ${row.text} | ${SHOAL.map((x) => verdictCell(row.cells[x.id])).join(' | ')} |`),
  ];
}
