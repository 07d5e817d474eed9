/**
 * Metrics in prom-client's JSON shape (what `registry.getMetricsAsJSON()`
 * gives and `AggregatorRegistry.aggregate()` takes): the form the workers
 * send the app's metrics in, and the form shoal's own are built in, so one
 * prom-client aggregation and one text formatter serve both.
 */

export interface MetricValue {
  readonly value: number;
  readonly labels: Readonly<Record<string, string | number>>;
  /** name_bucket, name_sum, name_count for histograms and summaries' sums and counts. */
  readonly metricName?: string;
}

export interface MetricJson {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'gauge' | 'histogram' | 'summary';
  readonly aggregator?: string;
  readonly values: readonly MetricValue[];
}

const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary']);
/** prom-client's aggregators (metricAggregators.js): an unknown one would make aggregate() throw for everyone. */
const AGGREGATORS = new Set(['sum', 'first', 'min', 'max', 'average', 'omit']);

/** shoal's own names: an app metric by one of these would merge with shoal's, so it is left out. */
export const OWN_PREFIX = 'shoal_';

const isValue = (v: unknown): v is MetricValue => {
  const o = v as MetricValue | null;
  return typeof o === 'object' && o !== null && (typeof o.value === 'number' || o.value === null)
    && typeof o.labels === 'object' && o.labels !== null && (o.metricName === undefined || typeof o.metricName === 'string');
};

/** A worker's answer as metrics, or undefined when it is not in prom-client's shape (the worker then counts as failed). */
export function parseMetrics(list: unknown): MetricJson[] | undefined {
  if (!Array.isArray(list)) return undefined;
  const out: MetricJson[] = [];
  for (const m of list as Partial<MetricJson>[]) {
    if (typeof m !== 'object' || m === null || typeof m.name !== 'string' || typeof m.help !== 'string' || !TYPES.has(m.type as string)) return undefined;
    if (m.aggregator !== undefined && !AGGREGATORS.has(m.aggregator)) return undefined;
    if (!Array.isArray(m.values) || !m.values.every(isValue)) return undefined;
    if (!m.name.startsWith(OWN_PREFIX)) out.push(m as MetricJson);
  }
  return out;
}

/** Summed (the default aggregator): only then do an exited worker's counts belong in the total. */
const summed = (m: MetricJson): boolean => m.aggregator === undefined || m.aggregator === 'sum';

/**
 * The part of a worker's metrics that only grows: counters, histograms,
 * and summaries' _sum and _count (their quantiles and every gauge describe
 * the moment, and mean nothing once the worker is gone or silent).
 */
export function cumulative(list: readonly MetricJson[]): MetricJson[] {
  const out: MetricJson[] = [];
  for (const m of list) {
    if (!summed(m) || m.type === 'gauge') continue;
    if (m.type === 'summary') {
      const values = m.values.filter((v) => v.metricName?.endsWith('_sum') === true || v.metricName?.endsWith('_count') === true);
      if (values.length > 0) out.push({ ...m, values });
    } else {
      out.push(m);
    }
  }
  return out;
}

const labelKey = (v: MetricValue): string =>
  `${v.metricName ?? ''}\u0000${Object.keys(v.labels).sort().map((k) => `${k}=${String(v.labels[k])}`).join('\u0000')}`;

/**
 * Exited workers' last counts, summed into one set that stays the size of
 * the metrics, not of the number of workers that ever ran.
 */
export class CumulativeSum {
  readonly #metrics = new Map<string, { meta: MetricJson; values: Map<string, MetricValue> }>();

  add(list: readonly MetricJson[]): void {
    for (const m of cumulative(list)) {
      let entry = this.#metrics.get(m.name);
      if (!entry) { entry = { meta: m, values: new Map() }; this.#metrics.set(m.name, entry); }
      // A name reused with another type would not add up; the first one seen stays.
      if (entry.meta.type !== m.type) continue;
      for (const v of m.values) {
        const k = labelKey(v);
        const prev = entry.values.get(k);
        entry.values.set(k, { ...v, value: (prev?.value ?? 0) + (v.value ?? 0) });
      }
    }
  }

  toJSON(): MetricJson[] {
    return [...this.#metrics.values()].map(({ meta, values }) => ({ name: meta.name, help: meta.help, type: meta.type, aggregator: 'sum', values: [...values.values()] }));
  }
}
