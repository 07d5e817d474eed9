/**
 * The dashboard's one sampler, shared by every open page: each interval it
 * reads the cluster's state once, turns it into a chart point and the marks
 * since the last one, keeps the last `historyMs` of both (so a page that
 * opens draws the last minutes at once) and pushes the sample to every
 * subscriber. Ten pages cost what one does.
 *
 * It samples with no page open too (the cheap synchronous snapshot; a few
 * hundred small points), so history is there when someone looks. With a
 * page open it reads the full state instead (each worker's session figures,
 * Redis' host list), never two reads at once.
 */
import type { ClusterState } from '../primary/cluster-state.js';
import { DURATION_BUCKETS } from '../worker/http-stats.js';
import { marksBetween, type Mark } from './marks.js';
import { addAll, quantile, subtract } from './quantile.js';

export interface WorkerPoint {
  readonly slot: number;
  readonly rps: number;
  readonly conns: number;
  /** Latency quantiles over the last QUANTILE_WINDOW samples, ms; null without requests. */
  readonly p50: number | null;
  readonly p99: number | null;
}

export interface Point {
  readonly t: number;
  readonly rps: number;
  readonly p50: number | null;
  readonly p99: number | null;
  /** Responses per second by status class 1xx..5xx, over the last interval. */
  readonly codes: readonly number[];
  readonly w: readonly WorkerPoint[];
}

export interface FeedSource {
  snapshot(): ClusterState;
  read(): Promise<ClusterState>;
  durationsBySlot(): ReadonlyMap<number, readonly number[]>;
}

export interface FeedOptions {
  readonly intervalMs: number;
  readonly historyMs: number;
  /** A sample that failed (a bug): reported, and the next interval tries again; it never reaches the primary's loop. */
  readonly onError: (e: Error) => void;
}

/** Latency quantiles are read over this many intervals: one second of a quiet worker is too few requests to say much. */
export const QUANTILE_WINDOW = 5;

/** Bound on the marks kept (a crash loop marks every restart; history is bounded in time too). */
export const MAX_MARKS = 500;

/** A subscriber gets the event's name and its JSON. */
export type Send = (event: string, json: string) => void;

const ms = (s: number | null): number | null => (s === null ? null : Math.round(s * 1e6) / 1e3);

export class DashboardFeed {
  readonly #src: FeedSource;
  readonly #o: FeedOptions;
  readonly #points: Point[] = [];
  readonly #marks: Mark[] = [];
  readonly #subs = new Set<Send>();
  /** Per-slot duration deltas of the last QUANTILE_WINDOW intervals, newest last. */
  readonly #window: Map<number, number[]>[] = [];
  #prev: { state: ClusterState; at: number; durations: ReadonlyMap<number, readonly number[]> } | undefined;
  #latest: string | undefined;
  #reading = false;
  readonly #timer: NodeJS.Timeout;

  constructor(src: FeedSource, o: FeedOptions) {
    this.#src = src;
    this.#o = o;
    // The first reading at once: what happens before the first interval is over is marked too.
    this.#sample(src.snapshot(), Date.now());
    this.#timer = setInterval(() => { this.#tick().catch(o.onError); }, o.intervalMs);
    // The sampler must never keep the primary alive.
    this.#timer.unref();
  }

  get subscribers(): number { return this.#subs.size; }

  /** `send` gets the history first, then every sample and mark as it comes; call the result to stop. */
  subscribe(send: Send): () => void {
    send('history', JSON.stringify({ intervalMs: this.#o.intervalMs, historyMs: this.#o.historyMs, points: this.#points, marks: this.#marks }));
    if (this.#latest) send('sample', this.#latest);
    this.#subs.add(send);
    return () => { this.#subs.delete(send); };
  }

  close(): void {
    clearInterval(this.#timer);
    this.#subs.clear();
  }

  async #tick(): Promise<void> {
    if (this.#reading) return;
    this.#reading = true;
    try {
      const state = this.#subs.size > 0 ? await this.#src.read().catch(() => this.#src.snapshot()) : this.#src.snapshot();
      this.#sample(state, Date.now());
    } finally { this.#reading = false; }
  }

  #sample(state: ClusterState, now: number): void {
    const durations = this.#src.durationsBySlot();
    const prev = this.#prev;
    this.#prev = { state, at: now, durations };
    if (!prev) return;
    const deltas = new Map<number, number[]>();
    for (const [slot, counts] of durations) deltas.set(slot, subtract(counts, prev.durations.get(slot)));
    this.#window.push(deltas);
    if (this.#window.length > QUANTILE_WINDOW) this.#window.shift();
    const len = DURATION_BUCKETS.length + 1;
    const overSlot = (slot: number): number[] => addAll(this.#window.map((d) => d.get(slot) ?? []), len);
    const all = addAll(this.#window.flatMap((d) => [...d.values()]), len);
    const secs = (now - prev.at) / 1000;
    const codes = [0, 1, 2, 3, 4].map((i) => {
      let n = 0;
      for (const [slot, c] of Object.entries(state.primary.http.bySlot)) n += (c[i] ?? 0) - (prev.state.primary.http.bySlot[slot]?.[i] ?? 0);
      return Math.max(0, Math.round(n / secs));
    });
    const w = state.workers.map((r): WorkerPoint => {
      const b = overSlot(r.slot);
      return { slot: r.slot, rps: r.rps, conns: r.connections, p50: ms(quantile(0.5, DURATION_BUCKETS, b)), p99: ms(quantile(0.99, DURATION_BUCKETS, b)) };
    });
    const point: Point = {
      t: now, rps: w.reduce((s, x) => s + x.rps, 0), codes, w,
      p50: ms(quantile(0.5, DURATION_BUCKETS, all)), p99: ms(quantile(0.99, DURATION_BUCKETS, all)),
    };
    const marks = marksBetween(prev.state, state, now);
    this.#points.push(point);
    this.#marks.push(...marks);
    const since = now - this.#o.historyMs;
    while ((this.#points[0]?.t ?? now) < since) this.#points.shift();
    while ((this.#marks[0]?.t ?? now) < since || this.#marks.length > MAX_MARKS) this.#marks.shift();
    this.#latest = JSON.stringify({ state, point });
    for (const send of this.#subs) {
      for (const m of marks) send('mark', JSON.stringify(m));
      send('sample', this.#latest);
    }
  }
}
