/**
 * The shutdown delay (--shutdown-delay): between the stop request and the
 * graceful stop, the host says it is going (/readyz fails, the HAProxy
 * agent answers `drain`) while it keeps serving normally, so that load
 * balancers stop sending before the port closes.
 *
 *   serving --stop--> delaying --(delay over, or a second stop)--> stopping
 *      \____________________________________(delay 0)_________________^
 *
 * Every change of phase goes through #set, which logs `from -> to`.
 */
import type { Logger } from 'pino';

export type ShutdownPhase = 'serving' | 'delaying' | 'stopping';

export class ShutdownDelay {
  readonly #delayMs: number;
  readonly #log: Logger;
  #phase: ShutdownPhase = 'serving';
  #until = 0;
  #timer: NodeJS.Timeout | undefined;
  #over: () => void = () => {};

  constructor(delayMs: number, log: Logger) {
    this.#delayMs = delayMs;
    this.#log = log;
  }

  get phase(): ShutdownPhase { return this.#phase; }

  /** While delaying: ms left before the graceful stop begins; else null. */
  remainingMs(now = Date.now()): number | null {
    return this.#phase === 'delaying' ? Math.max(0, this.#until - now) : null;
  }

  /**
   * Starts the delay (the first stop request) and resolves when it is over;
   * `skip` ends it at once (a forced stop).
   */
  run(reason: string, skip = false): Promise<void> {
    if (skip || this.#delayMs === 0) { this.#set('stopping', reason); return Promise.resolve(); }
    this.#until = Date.now() + this.#delayMs;
    this.#set('delaying', reason);
    return new Promise<void>((resolve) => {
      this.#over = resolve;
      this.#timer = setTimeout(() => this.#end('shutdown delay over'), this.#delayMs);
    });
  }

  /** A second stop request during the delay ends it now; true if there was one to end. */
  skip(reason: string): boolean {
    if (this.#phase !== 'delaying') return false;
    this.#end(`${reason}: shutdown delay skipped`);
    return true;
  }

  #end(reason: string): void {
    clearTimeout(this.#timer);
    this.#set('stopping', reason);
    this.#over();
  }

  #set(to: ShutdownPhase, reason: string): void {
    const from = this.#phase;
    if (from === to) return;
    this.#phase = to;
    this.#log.info({ from, to, reason, ...(to === 'delaying' ? { shutdownDelayMs: this.#delayMs } : {}) }, `shutdown: ${from} -> ${to}`);
  }
}
