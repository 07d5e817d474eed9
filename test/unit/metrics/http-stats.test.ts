/** The worker's per-request figures: classes, buckets, and deltas that reset once taken. */
import { describe, expect, it } from 'vitest';
import type http from 'node:http';
import { performance } from 'node:perf_hooks';
import { DURATION_BUCKETS, HttpStats } from '../../../runtime/worker/http-stats.js';
import { Buckets, HttpTotals } from '../../../runtime/metrics/totals.js';

const res = (statusCode: number, writableFinished = true): http.ServerResponse => ({ statusCode, writableFinished }) as http.ServerResponse;

describe('HttpStats', () => {
  it('counts finished responses per status class and duration bucket; take() gives the delta once', () => {
    const s = new HttpStats();
    expect(s.take()).toBeUndefined();
    const now = performance.now();
    s.end(now, res(200));
    s.end(now, res(204));
    s.end(now - 30, res(404));
    s.end(now - 20_000, res(503));
    s.end(now, res(101));
    s.end(now, res(200, false)); // abandoned by the client: not counted
    const d = s.take()!;
    expect(d.codes).toEqual([1, 2, 0, 1, 1]);
    expect(d.buckets).toHaveLength(DURATION_BUCKETS.length + 1);
    expect(d.buckets.reduce((a, b) => a + b, 0)).toBe(5);
    expect(d.buckets[DURATION_BUCKETS.indexOf(0.05)]).toBe(1); // 30 ms: in (0.025, 0.05]
    expect(d.buckets.at(-1)).toBe(1); // 20 s: +Inf
    expect(d.sum).toBeGreaterThan(20.03);
    expect(s.take()).toBeUndefined();
  });
});

describe('HttpTotals', () => {
  it('adds deltas per slot and into one duration histogram; figures are copies', () => {
    const t = new HttpTotals();
    const buckets = new Array(DURATION_BUCKETS.length + 1).fill(0);
    buckets[0] = 3;
    t.add(2, { codes: [0, 3, 0, 0, 0], buckets, sum: 0.006 });
    t.add(1, { codes: [0, 1, 0, 1, 0], buckets: [...buckets.slice(0, -1), 2], sum: 30 });
    t.add(2, { codes: [0, 1, 0, 0, 2], buckets, sum: 0.001 });
    const f = t.figures();
    expect(f.bySlot).toEqual({ 1: [0, 1, 0, 1, 0], 2: [0, 4, 0, 0, 2] });
    expect(Object.keys(f.bySlot)).toEqual(['1', '2']);
    expect(f.duration.count).toBe(11);
    expect(f.duration.counts[0]).toBe(9);
    expect(f.duration.counts.at(-1)).toBe(2);
    (f.bySlot['1'] as number[])[1] = 99;
    expect(t.figures().bySlot['1']).toEqual([0, 1, 0, 1, 0]);
  });

  it('Buckets.observe puts a value on a bound in that bucket', () => {
    const b = new Buckets([1, 5]);
    for (const v of [0.5, 1, 1.01, 5, 7]) b.observe(v);
    expect(b.figures()).toEqual({ bounds: [1, 5], counts: [2, 2, 1], sum: 14.51, count: 5 });
  });
});
