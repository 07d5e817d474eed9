/** The HAProxy agent's answer from the cluster state alone: the headroom formula as a table, drain when not ready. */
import { describe, expect, it } from 'vitest';
import { agentAnswer, headroomPercent, INFLIGHT_FULL } from '../../runtime/agent/weight.js';
import type { ClusterState, WorkerRow } from '../../runtime/primary/cluster-state.js';

const row = (slot: number, extra: Partial<WorkerRow> = {}): WorkerRow =>
  ({ slot, id: slot, pid: 100 + slot, state: 'ready', uptimeMs: 0, restarts: 0, weight: 1, connections: 0, inflight: 0, rps: 0, elu: 0, rssBytes: 0, sessions: null, ...extra });
const state = (workers: WorkerRow[], primary: Partial<ClusterState['primary']> = {}): ClusterState =>
  ({ primary: { stopping: false, ...primary } as ClusterState['primary'], workers });

describe('agent headroom', () => {
  it.each([
    ['two idle workers', [row(1), row(2)], 100],
    ['event loops half used', [row(1, { elu: 0.5 }), row(2, { elu: 0.5 })], 50],
    ['one saturated, one idle', [row(1, { elu: 1 }), row(2)], 50],
    ['both saturated: never 0 while up', [row(1, { elu: 1 }), row(2, { elu: 0.99 })], 1],
    ['one of two slots down', [row(1), row(2, { state: 'restarting' })], 50],
    ['a hung worker counts as down', [row(1, { elu: 0.2 }), row(2, { hungMs: 4000 })], 40],
    ['in flight at INFLIGHT_FULL is full, whatever the event loop', [row(1, { inflight: INFLIGHT_FULL }), row(2)], 50],
    ['in flight beyond full stays full', [row(1, { inflight: 10 * INFLIGHT_FULL }), row(2, { inflight: 10 * INFLIGHT_FULL })], 1],
    ['a quarter of INFLIGHT_FULL in flight', [row(1, { inflight: INFLIGHT_FULL / 4 })], 75],
    ['slot weights count for capacity', [row(1, { weight: 3 }), row(2, { state: 'starting' })], 75],
  ] as const)('%s: %i%%', (_what, workers, percent) => {
    expect(headroomPercent(workers)).toBe(percent);
  });

  it('a busy host answers less than an idle one', () => {
    const idle = headroomPercent([row(1, { elu: 0.05 }), row(2, { elu: 0.1 })]);
    const busy = headroomPercent([row(1, { elu: 0.9 }), row(2, { elu: 0.8, inflight: 12 })]);
    expect(busy).toBeLessThan(idle);
  });
});

describe('agent answer', () => {
  it('up ready N% while ready', () => {
    expect(agentAnswer(state([row(1, { elu: 0.25 }), row(2, { elu: 0.25 })]))).toBe('up ready 75%\n');
  });

  it.each([
    ['stopping', state([row(1)], { stopping: true })],
    ['in the shutdown delay', state([row(1)], { stopping: true, stoppingInMs: 3000 })],
    ['no worker ready', state([row(1, { state: 'starting' }), row(2, { state: 'failed' })])],
    ['no worker at all', state([])],
  ] as const)('drain when %s', (_what, s) => {
    expect(agentAnswer(s)).toBe('drain\n');
  });
});
