// Quantiles from bucket counts, and the marks found between two states of the cluster.
import { describe, expect, it } from 'vitest';
import { marksBetween } from '../../../runtime/dashboard/marks.js';
import { quantile, subtract } from '../../../runtime/dashboard/quantile.js';
import type { ClusterState, WorkerRow } from '../../../runtime/primary/cluster-state.js';

describe('quantile from buckets', () => {
  const bounds = [1, 2, 5];
  it('places the rank linearly inside its bucket', () => {
    expect(quantile(0.5, bounds, [0, 10, 0, 0])).toBe(1.5);
    expect(quantile(0.5, bounds, [10, 0, 0, 0])).toBe(0.5);
    expect(quantile(0.99, bounds, [50, 49, 1, 0])).toBe(2);
  });
  it('null without observations; the highest bound for the +Inf bucket', () => {
    expect(quantile(0.5, bounds, [0, 0, 0, 0])).toBeNull();
    expect(quantile(0.99, bounds, [0, 0, 0, 5])).toBe(5);
  });
  it('deltas of cumulative readings', () => {
    expect(subtract([5, 7, 9], [1, 2, 3])).toEqual([4, 5, 6]);
    expect(subtract([5, 7], undefined)).toEqual([5, 7]);
  });
});

const row = (slot: number, over: Partial<WorkerRow> = {}): WorkerRow => ({
  slot, id: slot, pid: 1000 + slot, state: 'ready', uptimeMs: 1, restarts: 0, weight: 1, connections: 0, inflight: 0, rps: 0, elu: 0, rssBytes: 0, sessions: null, ...over,
});
const state = (workers: WorkerRow[], p: Record<string, unknown> = {}): ClusterState => ({
  workers,
  primary: {
    operation: null, reloads: { done: 0, failed: 0, refused: 0 },
    restartsByReason: { crash: 0, start: 0, hang: 0, memory: 0, 'app-close': 0 }, ...p,
  } as unknown as ClusterState['primary'],
});

describe('marks between two states', () => {
  it('a crash restart, with its slot', () => {
    const m = marksBetween(state([row(1), row(2)]), state([row(1), row(2, { id: 3, restarts: 1 })], { restartsByReason: { crash: 1, start: 0, hang: 0, memory: 0, 'app-close': 0 } }), 5);
    expect(m).toEqual([{ t: 5, kind: 'restart', text: 'worker crashed, restarted (slot 2)' }]);
  });
  it('a reload starting and ending, a scale, a hang and a memory replacement', () => {
    const before = state([row(1)]);
    expect(marksBetween(before, state([row(1)], { operation: 'a reload' }), 1).map((x) => x.kind)).toEqual(['reload']);
    expect(marksBetween(state([row(1)], { operation: 'a reload' }), state([row(1)], { reloads: { done: 1, failed: 0, refused: 0 } }), 2).map((x) => x.kind)).toEqual(['reload-done']);
    expect(marksBetween(before, state([row(1), row(2)]), 3).map((x) => x.text)).toEqual(['1 → 2 workers']);
    expect(marksBetween(before, state([row(1, { hungMs: 1200 })]), 4).map((x) => x.kind)).toEqual(['hang']);
    expect(marksBetween(before, state([row(1, { restarts: 1 })], { restartsByReason: { crash: 0, start: 0, hang: 0, memory: 1, 'app-close': 0 } }), 5).map((x) => x.kind)).toEqual(['memory']);
    expect(marksBetween(before, before, 6)).toEqual([]);
  });
});
