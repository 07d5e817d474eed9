/**
 * The app's own metrics, gathered from the workers at scrape time.
 *
 *   scrape: primary --{metrics, req, timeoutMs}--> every ready worker
 *           worker  --{metrics, req, [...]}-----> primary (prom-client JSON)
 *           the round ends when all have answered or the timeout passes
 *
 * What goes into a scrape, per worker:
 * - it answered this round: everything it sent;
 * - it is late, failed or out of rotation (counted in the scrape errors):
 *   only the cumulative part of its last answer (counters, histograms,
 *   summaries' sums and counts), so the sum over workers does not drop
 *   while it is silent; its gauges are left out;
 * - it has exited: the cumulative part of its last answer stays, summed
 *   with every other exited worker's (CumulativeSum). A worker retiring
 *   gracefully (reload, scale down, stop) sends a last answer before it
 *   exits, so nothing it counted is lost; one that dies (kill -9, crash)
 *   loses what it counted since the last scrape that reached it.
 * So a summed counter never goes backwards, whatever the workers do.
 */
import type { WorkerProcess } from '../primary/worker-process.js';
import type { ToPrimary } from '../ipc/messages.js';
import { cumulative, CumulativeSum, parseMetrics, type MetricJson } from './metric-json.js';

type Answer = Extract<ToPrimary, { shoal: 'metrics' }>;

interface Round {
  readonly req: number;
  readonly pending: Set<WorkerProcess>;
  readonly answered: Set<WorkerProcess>;
  done(): void;
}

export class AppMetricsCollector {
  readonly #timeoutMs: number;
  #nextReq = 1;
  /** Each live worker's last answer (the req it answered, so a late old answer never replaces a newer one). */
  readonly #last = new Map<WorkerProcess, { req: number; metrics: MetricJson[] }>();
  readonly #retired = new CumulativeSum();
  readonly #watched = new WeakSet<WorkerProcess>();
  #round: Round | undefined;
  #errors = 0;

  constructor(timeoutMs: number) {
    this.#timeoutMs = timeoutMs;
  }

  /** Workers that did not answer a scrape in time, failed, or were out of rotation, since the start. */
  get errors(): number { return this.#errors; }

  /**
   * One round: asks each of `ask`, counts `skip` (workers known not to
   * answer, e.g. hung) as errors at once, and resolves with the lists to
   * aggregate. One round at a time (the scraper shares a running one).
   */
  async collect(ask: readonly WorkerProcess[], skip = 0): Promise<MetricJson[][]> {
    const req = this.#nextReq++;
    const pending = new Set(ask.filter((w) => w.child.connected));
    const answered = new Set<WorkerProcess>();
    this.#errors += skip + (ask.length - pending.size);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, this.#timeoutMs);
      this.#round = { req, pending, answered, done: () => { clearTimeout(timer); resolve(); } };
      if (pending.size === 0) this.#round.done();
      for (const w of pending) { this.#watch(w); w.send({ shoal: 'metrics', req }); }
    });
    this.#round = undefined;
    this.#errors += pending.size;
    // Built in one synchronous step, so a worker that exits meanwhile is in #last or in #retired, never both.
    const lists: MetricJson[][] = [];
    for (const [w, l] of this.#last) lists.push(answered.has(w) ? l.metrics : cumulative(l.metrics));
    lists.push(this.#retired.toJSON());
    return lists;
  }

  /** A worker's answer (or its last one, before a graceful exit). */
  received(w: WorkerProcess, m: Answer): void {
    const round = this.#round?.req === m.req && !m.final ? this.#round : undefined;
    const metrics = m.metrics === null ? undefined : parseMetrics(m.metrics);
    if (metrics === undefined) {
      if (round?.pending.delete(w)) { this.#errors++; this.#settle(round); }
      return;
    }
    this.#watch(w);
    const prev = this.#last.get(w);
    if (!m.final && prev && prev.req > m.req) return;
    this.#last.set(w, { req: m.req, metrics });
    if (round?.pending.delete(w)) { round.answered.add(w); this.#settle(round); }
  }

  #settle(round: Round): void {
    if (round.pending.size === 0) round.done();
  }

  /**
   * 'close' comes after the child's IPC channel closed, so after its last
   * answer arrived: its counts then move to the exited workers' sum.
   */
  #watch(w: WorkerProcess): void {
    if (this.#watched.has(w)) return;
    this.#watched.add(w);
    w.child.once('close', () => {
      const l = this.#last.get(w);
      if (l) this.#retired.add(l.metrics);
      this.#last.delete(w);
      const round = this.#round;
      if (round?.pending.delete(w)) this.#settle(round);
    });
  }
}
