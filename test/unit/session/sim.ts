/**
 * A simulated cluster for the property tests: replicas with their own hybrid
 * clocks (skewed, going back at times) that write, send each delta to every
 * other replica through a network that delivers in any order, late, and more
 * than once. Also an oracle: what last-writer-wins per attribute must give.
 */
import fc from 'fast-check';
import { HybridClock, formatHlc, parseHlc } from '../../../runtime/session/hlc.js';
import {
  deleteAttr, destroySession, emptyState, merge, setAttr, touchSession, type Delta, type Json, type SessionState, type Version,
} from '../../../runtime/session/model.js';

export const KEYS = ['a', 'b', 'c', 'd'] as const;

export type Action =
  | { t: 'set'; node: number; key: string; value: number }
  | { t: 'del'; node: number; key: string }
  | { t: 'destroy'; node: number }
  | { t: 'touch'; node: number }
  | { t: 'clock'; node: number; ms: number }
  | { t: 'deliver'; pick: number; duplicate: boolean };

export const actionArb = (nodes: number): fc.Arbitrary<Action> => {
  const node = fc.nat(nodes - 1);
  const key = fc.constantFrom(...KEYS);
  return fc.oneof(
    { weight: 4, arbitrary: fc.record({ t: fc.constant('set' as const), node, key, value: fc.nat(1000) }) },
    { weight: 2, arbitrary: fc.record({ t: fc.constant('del' as const), node, key }) },
    { weight: 1, arbitrary: fc.record({ t: fc.constant('destroy' as const), node }) },
    { weight: 1, arbitrary: fc.record({ t: fc.constant('touch' as const), node }) },
    { weight: 2, arbitrary: fc.record({ t: fc.constant('clock' as const), node, ms: fc.integer({ min: -300, max: 300 }) }) },
    { weight: 4, arbitrary: fc.record({ t: fc.constant('deliver' as const), pick: fc.nat(), duplicate: fc.boolean() }) },
  );
};

interface Replica {
  readonly clock: HybridClock;
  phys: number;
  state: SessionState;
}

interface Op {
  readonly kind: 'set' | 'del' | 'destroy';
  readonly key?: string;
  readonly value?: number;
  readonly version: Version;
}

export class Cluster {
  readonly replicas: Replica[];
  /** Every op ever made, with its version: the oracle's input. */
  readonly ops: Op[] = [];
  readonly sent: Delta[] = [];
  inFlight: { to: number; delta: Delta }[] = [];

  constructor(nodes: number, skews: readonly number[] = []) {
    this.replicas = Array.from({ length: nodes }, (_, i) => {
      const r: Replica = { phys: 1_000_000 + (skews[i] ?? 0), state: emptyState(), clock: undefined as unknown as HybridClock };
      (r as { clock: HybridClock }).clock = new HybridClock(`n${i}`, { wallClock: () => r.phys, maxDriftMs: Infinity });
      return r;
    });
  }

  run(a: Action): void {
    if (a.t === 'deliver') {
      if (this.inFlight.length === 0) return;
      const i = a.pick % this.inFlight.length;
      const msg = this.inFlight[i]!;
      if (!a.duplicate) this.inFlight.splice(i, 1);
      this.receive(msg.to, msg.delta);
      return;
    }
    const r = this.replicas[a.node]!;
    if (a.t === 'clock') {
      r.phys += a.ms;
      return;
    }
    if (a.t === 'touch') {
      this.write(a.node, touchSession(r.phys, 1000));
      return;
    }
    const version = formatHlc(r.clock.now());
    if (a.t === 'set') {
      this.ops.push({ kind: 'set', key: a.key, value: a.value, version });
      this.write(a.node, setAttr(a.key, a.value, version));
    } else if (a.t === 'del') {
      this.ops.push({ kind: 'del', key: a.key, version });
      this.write(a.node, deleteAttr(a.key, version));
    } else {
      this.ops.push({ kind: 'destroy', version });
      this.write(a.node, destroySession(version));
    }
  }

  write(node: number, delta: Delta): void {
    const r = this.replicas[node]!;
    r.state = merge(r.state, delta);
    this.sent.push(delta);
    this.replicas.forEach((_, to) => { if (to !== node) this.inFlight.push({ to, delta }); });
  }

  receive(to: number, delta: Delta): void {
    const r = this.replicas[to]!;
    const versions = [...Object.values(delta.attrs ?? {}).map((x) => x.version), ...(delta.destroyed ? [delta.destroyed] : [])];
    const newest = versions.sort().at(-1);
    if (newest !== undefined) r.clock.receive(parseHlc(newest)!);
    r.state = merge(r.state, delta);
  }

  /** Delivers everything still in flight in the order `picks` gives, then every delta once more to everyone. */
  settle(picks: readonly number[]): void {
    for (const p of picks) this.run({ t: 'deliver', pick: p, duplicate: false });
    while (this.inFlight.length > 0) this.run({ t: 'deliver', pick: this.inFlight.length - 1, duplicate: false });
    for (const d of this.sent) this.replicas.forEach((_, to) => this.receive(to, d));
  }

  /** Last writer wins per attribute; a destroy hides what is not newer than it. */
  expectedView(): Record<string, Json> {
    const destroyed = this.ops.filter((o) => o.kind === 'destroy').map((o) => o.version).sort().at(-1);
    const out: Record<string, Json> = {};
    for (const key of KEYS) {
      const last = this.ops.filter((o) => o.key === key).sort((x, y) => (x.version < y.version ? -1 : 1)).at(-1);
      if (last?.kind === 'set' && (destroyed === undefined || last.version > destroyed)) out[key] = last.value!;
    }
    return out;
  }
}
