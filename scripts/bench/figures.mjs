// How the report reads and prints figures: ratios to the baseline, number formats.
import { BASELINE } from './contenders.mjs';

/** Median of a contender's metric over the baseline's, or null when either is missing (or the baseline's is 0). */
export function ratio(agg, scenario, contender, metric) {
  const v = agg[scenario]?.[contender]?.m[metric]?.median;
  const b = agg[scenario]?.[BASELINE]?.m[metric]?.median;
  if (typeof v !== 'number' || typeof b !== 'number' || b === 0) return null;
  return v / b;
}

export function fmt(v, metric) {
  if (typeof v !== 'number') return '—';
  if (!Number.isFinite(v)) return '∞';
  if (metric === 'rps' || metric === 'ceiling') return String(Math.round(v));
  if (metric === 'slow') return Number.isInteger(v) ? String(v) : v.toFixed(1);
  if (Math.abs(v) >= 100) return String(Math.round(v));
  if (Math.abs(v) >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

/** The "runs" cell: runs behind the medians, and the busy or failed ones. */
export function runsCell(a) {
  const notes = [a.busy && (a.used < a.runs ? `${a.runs - a.used} busy, left out` : `${a.busy} busy, kept`), a.failed && `+${a.failed} failed`].filter(Boolean);
  return `${a.used}${notes.length ? ` (${notes.join(', ')})` : ''}`;
}

/** A ratio as printed: 0.42× (∞ when the baseline is 0 or the figure unbounded). */
export const times = (r) => `${Number.isFinite(r) ? r.toFixed(2) : '∞'}×`;
