/** What is kept of a worker's metrics once it is silent or gone, and what a worker's answer must look like. */
import { describe, expect, it } from 'vitest';
import client from 'prom-client';
import { cumulative, CumulativeSum, parseMetrics, type MetricJson } from '../../../runtime/metrics/metric-json.js';

async function workerMetrics(n: number): Promise<MetricJson[]> {
  const r = new client.Registry();
  new client.Counter({ name: 'reqs_total', help: 'h', labelNames: ['path'], registers: [r] }).inc({ path: '/a' }, n);
  new client.Counter({ name: 'maxed_total', help: 'h', aggregator: 'max', registers: [r] }).inc(n);
  new client.Gauge({ name: 'up', help: 'h', registers: [r] }).set(1);
  const h = new client.Histogram({ name: 'lat', help: 'h', buckets: [1], registers: [r] });
  h.observe(0.5);
  const s = new client.Summary({ name: 'sz', help: 'h', percentiles: [0.5], registers: [r] });
  s.observe(n);
  return parseMetrics(await r.getMetricsAsJSON())!;
}

describe('cumulative()', () => {
  it('keeps counters, histograms and summaries\' sum and count, of summed metrics only', async () => {
    const kept = cumulative(await workerMetrics(3));
    expect(kept.map((m) => m.name)).toEqual(['reqs_total', 'lat', 'sz']);
    expect(kept.find((m) => m.name === 'sz')!.values.map((v) => v.metricName)).toEqual(['sz_sum', 'sz_count']);
  });
});

describe('CumulativeSum', () => {
  it('sums exited workers by name, labels and sample name; aggregate() then adds the live ones', async () => {
    const gone = new CumulativeSum();
    gone.add(await workerMetrics(3));
    gone.add(await workerMetrics(4));
    const json = gone.toJSON();
    expect(json.find((m) => m.name === 'reqs_total')!.values).toEqual([{ value: 7, labels: { path: '/a' } }]);
    const live = await workerMetrics(10);
    const text = await client.AggregatorRegistry.aggregate([live, json]).metrics();
    expect(text).toContain('reqs_total{path="/a"} 17');
    expect(text).toContain('lat_count 3');
    expect(text).toContain('sz_count 3');
    expect(text).toContain('up 1');
    expect(text).toContain('maxed_total 10');
  });
});

describe('parseMetrics()', () => {
  it("refuses what is not prom-client's shape, and leaves out shoal_ names", () => {
    expect(parseMetrics('x')).toBeUndefined();
    expect(parseMetrics([{ name: 'a', help: 'h', type: 'nope', values: [] }])).toBeUndefined();
    expect(parseMetrics([{ name: 'a', help: 'h', type: 'gauge', aggregator: 'median', values: [] }])).toBeUndefined();
    expect(parseMetrics([{ name: 'a', help: 'h', type: 'gauge', values: [{ value: 'x', labels: {} }] }])).toBeUndefined();
    expect(parseMetrics([{ name: 'shoal_workers', help: 'h', type: 'gauge', values: [] }, { name: 'a', help: 'h', type: 'gauge', values: [{ value: 1, labels: {} }] }])!.map((m) => m.name)).toEqual(['a']);
  });
});
