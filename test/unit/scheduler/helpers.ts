/** Shared fixtures for the scheduler table tests. */
import { createScheduler, type BalancerName, type Eligible, type Scheduler, type SchedulerOptions, type WorkerLoad } from '../../../runtime/scheduler/index.js';

export type WorkerSpec = Partial<Omit<WorkerLoad, 'id'>> & { name: string };

/** Worker ids are 1.. in spec order; `name` is only for readable expectations. */
export function worker(id: number, spec: Partial<WorkerLoad> = {}): WorkerLoad {
  return { id, weight: 1, conns: 0, pending: 0, inflight: 0, elu: 0, readyAt: -1e9, ...spec };
}

export interface Cluster {
  s: Scheduler;
  byName: Map<string, WorkerLoad>;
  nameOf: (w: WorkerLoad | undefined) => string | undefined;
  /** Eligible set from names; undefined = everyone. */
  only: (...names: string[]) => Eligible;
}

export function cluster(name: BalancerName, specs: WorkerSpec[], opts: Partial<SchedulerOptions> = { slowStartMs: 0 }): Cluster {
  const s = createScheduler(name, opts);
  const byName = new Map<string, WorkerLoad>();
  const names = new Map<number, string>();
  specs.forEach(({ name: n, ...rest }, i) => {
    const w = worker(i + 1, rest);
    byName.set(n, w);
    names.set(w.id, n);
    s.add(w);
  });
  return {
    s,
    byName,
    nameOf: (w) => (w === undefined ? undefined : names.get(w.id)),
    only: (...ns) => (w) => ns.includes(names.get(w.id) ?? ''),
  };
}

export const all: Eligible = () => true;

/** `n` picks; when `connect` is set each pick opens a connection on the picked worker (as the dispatcher does). */
export function picks(c: Cluster, n: number, opts: { eligible?: Eligible; now?: number; addr?: string; connect?: boolean } = {}): Array<string | undefined> {
  const out: Array<string | undefined> = [];
  for (let i = 0; i < n; i++) {
    const w = c.s.pick({ now: opts.now ?? 0, remoteAddress: opts.addr }, opts.eligible ?? all);
    if (w !== undefined && opts.connect === true) w.conns++;
    out.push(c.nameOf(w));
  }
  return out;
}

export function tally(xs: ReadonlyArray<string | number | undefined>): Record<string, number> {
  const t: Record<string, number> = {};
  for (const x of xs) t[String(x)] = (t[String(x)] ?? 0) + 1;
  return t;
}

/** mulberry32: a seeded PRNG, so "random" tests are reproducible. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A random source that replays `values` in order (and fails loudly if more are drawn). */
export function scripted(values: number[]): () => number {
  let i = 0;
  return () => {
    const v = values[i++];
    if (v === undefined) throw new Error(`random drawn ${i} times, only ${values.length} scripted`);
    return v;
  };
}
