/**
 * What the dashboard marks on its time axis, found by comparing two
 * consecutive states of the cluster rather than by hooks in the
 * supervisor: the counters it compares only grow (restarts by reason,
 * reloads by result), so no restart or reload is missed between two
 * samples, whoever caused it. A hang is seen as a worker's `hungMs`
 * appearing; one that began and ended between two samples is not marked.
 */
import type { ClusterState } from '../primary/cluster-state.js';
import { RESTART_REASONS } from '../primary/supervisor.js';

export type MarkKind = 'reload' | 'reload-done' | 'reload-failed' | 'scale' | 'restart' | 'hang' | 'memory';

export interface Mark {
  readonly t: number;
  readonly kind: MarkKind;
  readonly text: string;
}

const restartText: Record<(typeof RESTART_REASONS)[number], string> = {
  crash: 'worker crashed, restarted',
  start: 'worker failed to start, restarted',
  hang: 'hung worker killed, restarted',
  memory: 'worker over its memory limit, replaced',
  'app-close': 'app closed its server, worker replaced',
};

export function marksBetween(prev: ClusterState, next: ClusterState, t: number): Mark[] {
  const out: Mark[] = [];
  const a = prev.primary;
  const b = next.primary;
  if (b.operation !== a.operation && b.operation !== null) {
    out.push({ t, kind: b.operation === 'a reload' ? 'reload' : 'scale', text: `${b.operation.replace(/^a /, '')} started` });
  }
  if (b.reloads.done > a.reloads.done) out.push({ t, kind: 'reload-done', text: 'reload done' });
  if (b.reloads.failed > a.reloads.failed) out.push({ t, kind: 'reload-failed', text: 'reload failed' });
  // No slot at all yet is the start, not a scale.
  if (prev.workers.length > 0 && next.workers.length !== prev.workers.length) out.push({ t, kind: 'scale', text: `${prev.workers.length} → ${next.workers.length} workers` });
  for (const r of RESTART_REASONS) {
    const n = b.restartsByReason[r] - a.restartsByReason[r];
    if (n <= 0) continue;
    const slots = next.workers.filter((w) => w.restarts > (prev.workers.find((p) => p.slot === w.slot)?.restarts ?? w.restarts));
    const where = slots.length > 0 ? ` (slot ${slots.map((w) => w.slot).join(', ')})` : '';
    out.push({ t, kind: r === 'memory' ? 'memory' : 'restart', text: `${n > 1 ? `${n}× ` : ''}${restartText[r]}${where}` });
  }
  for (const w of next.workers) {
    const before = prev.workers.find((p) => p.slot === w.slot);
    if (w.hungMs !== undefined && (before?.hungMs === undefined || before.id !== w.id)) {
      out.push({ t, kind: 'hang', text: `worker ${w.id ?? '?'} (slot ${w.slot}) not responding` });
    }
  }
  return out;
}
