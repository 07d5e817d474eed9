// Scenario e's table: how evenly each contender spread connections over its
// workers, with every run's per-worker counts (a median hides which worker
// was left out).
import { fmt, runsCell } from './figures.mjs';

export function spreadTable(s, agg, contenders, runs) {
  const head = ['contender', 'one-by-one max/min', 'per worker, one by one (each run)', 'burst largest share %', 'per worker, burst (each run)',
    'burst answered p50 / max ms', 'max/min range', 'errors / timeouts / resets', 'runs'];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i === 0 ? ':--' : '--:')).join('|')}|`];
  for (const c of contenders) {
    const a = agg[s.id]?.[c.id];
    if (!a) continue;
    const mine = runs.filter((r) => r.scenario === s.id && r.contender === c.id && r.metrics);
    const each = (k) => mine.map((r) => r.metrics[k].join('/')).join('; ') || '—';
    const k = a.m.oneMaxMin;
    const t = a.totals;
    lines.push(`| ${[c.label, fmt(k?.median), each('oneCounts'), fmt(a.m.burstShare?.median), each('burstCounts'),
      `${fmt(a.m.burstP50?.median)} / ${fmt(a.m.burstMax?.median)}`, k ? `${fmt(k.min)}–${fmt(k.max)}` : '—', `${t.errors} / ${t.timeouts} / ${t.resets}`, runsCell(a)].join(' | ')} |`);
  }
  return lines.join('\n');
}

/** What may have bent a run: connections the server closed early, an idle wait that ran out. */
export function spreadNotes(s, runs) {
  const notes = [];
  for (const r of runs.filter((x) => x.scenario === s.id && x.result?.one)) {
    const parts = [['one by one', r.result.one], ['burst', r.result.burst]];
    for (const [name, p] of parts) {
      if (p.closedEarly) notes.push(`${r.contender} round ${r.round}, ${name}: the server closed ${p.closedEarly} answered connection(s) before the end`);
      if (p.idleBefore?.open) notes.push(`${r.contender} round ${r.round}, ${name}: ${p.idleBefore.open} connection(s) still open after waiting ${p.idleBefore.ms} ms for none`);
    }
  }
  return notes;
}
