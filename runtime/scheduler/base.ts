/**
 * What every strategy shares (node's round_robin_handle and undici's
 * balanced pool both keep the membership logic apart from the choice):
 * the routable workers in insertion order, add/remove/size, and a rotating
 * cursor used for plain rotation and to break ties fairly. A strategy only
 * implements pick(), plus the hooks when it keeps per-worker state.
 */
import type { BalancerName, Eligible, PickContext, Scheduler, SchedulerOptions, WorkerLoad } from './types.js';

export abstract class BaseScheduler implements Scheduler {
  abstract readonly name: BalancerName;
  protected readonly opts: SchedulerOptions;
  readonly #workers: WorkerLoad[] = [];
  /** Index where the next rotation starts; kept pointing at the same worker across removals. */
  #next = 0;

  constructor(opts: SchedulerOptions) {
    this.opts = opts;
  }

  get size(): number {
    return this.#workers.length;
  }

  /** Only least-load ever holds a connection back. */
  get holdMs(): number {
    return 0;
  }

  /** The routable workers, in insertion order (read-only view for strategies). */
  protected get workers(): readonly WorkerLoad[] {
    return this.#workers;
  }

  /** Adds a worker; adding an id that is already present replaces that entry in place. */
  add(w: WorkerLoad): void {
    const i = this.#workers.findIndex((x) => x.id === w.id);
    if (i >= 0) this.#workers[i] = w;
    else this.#workers.push(w);
    this.onAdd(w);
  }

  /** Removes a worker; an unknown id is a no-op (the dispatcher may remove twice on exit races). */
  remove(id: number): void {
    const i = this.#workers.findIndex((x) => x.id === id);
    if (i < 0) return;
    const [w] = this.#workers.splice(i, 1);
    // Keep the cursor on the same next worker, so a removal does not make
    // the rotation skip or repeat someone.
    if (i < this.#next) this.#next--;
    if (w) this.onRemove(w);
  }

  abstract pick(ctx: PickContext, eligible: Eligible): WorkerLoad | undefined;

  protected onAdd(_w: WorkerLoad): void {}
  protected onRemove(_w: WorkerLoad): void {}

  /** Plain rotation: the first eligible worker from the cursor on; the cursor moves past it. */
  protected rotate(eligible: Eligible): WorkerLoad | undefined {
    const ws = this.#workers;
    const n = ws.length;
    const start = this.#start();
    for (let k = 0; k < n; k++) {
      const i = (start + k) % n;
      const w = ws[i];
      if (w !== undefined && eligible(w)) {
        this.#next = i + 1;
        return w;
      }
    }
    return undefined;
  }

  /**
   * Position of worker index `i` in the current rotation (0 = next up).
   * Strategies prefer the lowest among tied candidates, then call
   * advancePast(), so ties are served in turn rather than always the first.
   */
  protected rotationRank(i: number): number {
    const n = this.#workers.length;
    return (i - this.#start() + n) % n;
  }

  protected advancePast(i: number): void {
    this.#next = i + 1;
  }

  #start(): number {
    const n = this.#workers.length;
    return n === 0 ? 0 : this.#next % n;
  }
}
