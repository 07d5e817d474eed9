/** Readiness from the cluster state alone: stopping first, then whether any worker is ready and in rotation. */
import { describe, expect, it } from 'vitest';
import type { ClusterState, WorkerRow } from '../../runtime/primary/cluster-state.js';
import { readiness } from '../../runtime/primary/readiness.js';

const row = (slot: number, state: WorkerRow['state'], extra: Partial<WorkerRow> = {}): WorkerRow =>
  ({ slot, id: slot, pid: 100 + slot, state, uptimeMs: 0, restarts: 0, weight: 1, connections: 0, inflight: 0, rps: 0, elu: 0, rssBytes: 0, sessions: null, ...extra });
const state = (workers: WorkerRow[], stopping = false): ClusterState => ({ primary: { stopping } as ClusterState['primary'], workers });

describe('readiness', () => {
  it('ready while one worker is ready and in rotation, naming the others', () => {
    expect(readiness(state([row(1, 'ready'), row(2, 'ready')]))).toEqual({ ready: true, reason: 'ready: 2 of 2 workers ready' });
    expect(readiness(state([row(1, 'ready'), row(2, 'restarting')]))).toEqual({ ready: true, reason: 'ready: 1 of 2 workers ready (slot 2 restarting)' });
    expect(readiness(state([row(1, 'ready')])).reason).toBe('ready: 1 of 1 worker ready');
  });

  it('not ready when stopping, whatever the workers', () => {
    expect(readiness(state([row(1, 'ready')], true))).toEqual({ ready: false, reason: 'not ready: stopping' });
  });

  it('not ready during the shutdown delay, saying when the stop begins', () => {
    const s: ClusterState = { primary: { stopping: true, stoppingInMs: 2400 } as ClusterState['primary'], workers: [row(1, 'ready')] };
    expect(readiness(s)).toEqual({ ready: false, reason: 'not ready: stopping in 3s (shutdown delay; still serving)' });
  });

  it('not ready when no worker is ready or every ready one is hung, with why', () => {
    expect(readiness(state([row(1, 'failed', { error: 'exit code 1' }), row(2, 'starting')]))).toEqual({
      ready: false, reason: 'not ready: no worker ready (slot 1 failed: exit code 1; slot 2 starting)',
    });
    expect(readiness(state([row(1, 'ready', { hungMs: 3200 })]))).toEqual({ ready: false, reason: 'not ready: no worker ready (slot 1 not responding for 3200 ms)' });
    expect(readiness(state([])).ready).toBe(false);
  });
});
