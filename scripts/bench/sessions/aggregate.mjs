// Medians over interleaved rounds, per contender (parts C and D of the session benchmark).
import { median } from '../stats.mjs';
import { BUSY } from '../report.mjs';

/**
 * results: [{ contender, metrics: { rps, p50, p90, p99, errors, non2xx, … }, result: { foreignCpu } }]
 * (rounds that failed have no metrics). Busy rounds (other processes on the
 * CPUs) are left out when at least two clean ones remain. Ratios are against
 * `baseId`'s medians.
 */
export function aggregateRounds(results, ids, baseId, extraMetrics = []) {
  const agg = {};
  for (const id of ids) {
    const good = results.filter((r) => r.contender === id && r.metrics);
    if (!good.length) continue;
    const clean = good.filter((r) => !(r.result.foreignCpu >= BUSY));
    const used = clean.length >= Math.min(2, good.length) ? clean : good;
    const med = (k) => median(used.map((r) => r.metrics[k]).filter((x) => typeof x === 'number'));
    agg[id] = {
      runs: good.length, used: used.length, busy: good.length - clean.length,
      failed: results.filter((r) => r.contender === id && !r.metrics).length,
      rps: med('rps'), p50: med('p50'), p90: med('p90'), p99: med('p99'),
      ...Object.fromEntries(extraMetrics.map((k) => [k, med(k)])),
      rpsRange: [Math.min(...used.map((r) => r.metrics.rps)), Math.max(...used.map((r) => r.metrics.rps))],
      errors: good.reduce((n, r) => n + r.metrics.errors, 0), non2xx: good.reduce((n, r) => n + r.metrics.non2xx, 0),
    };
  }
  const base = agg[baseId];
  for (const a of Object.values(agg)) {
    a.rpsRatio = base?.rps ? Math.round((a.rps / base.rps) * 100) / 100 : null;
    a.p99Ratio = base?.p99 ? Math.round((a.p99 / base.p99) * 100) / 100 : null;
  }
  return agg;
}
