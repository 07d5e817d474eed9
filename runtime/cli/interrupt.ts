/**
 * For the commands that run until they are told to end (`logs -f`, `status
 * --watch`): Ctrl-C (SIGINT) or SIGTERM ends them quietly, with the code a
 * shell gives a tool killed by that signal (128 + its number: 130 for
 * Ctrl-C), as the closed pipe's 141 does (see main.ts). The signal is
 * caught rather than left to kill the process, so that what was already
 * written still reaches stdout.
 */
import os from 'node:os';

const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

export class Interrupted extends Error {
  readonly exitCode: number;
  constructor(signal: NodeJS.Signals) {
    super(`interrupted by ${signal}`);
    this.name = 'Interrupted';
    this.exitCode = 128 + (os.constants.signals[signal] ?? 0);
  }
}

export interface Interruptible {
  /** Aborted, with an Interrupted as its reason, when a signal comes. */
  readonly signal: AbortSignal;
  dispose(): void;
}

export function interruptible(): Interruptible {
  const ac = new AbortController();
  const on = (sig: NodeJS.Signals): void => { ac.abort(new Interrupted(sig)); };
  for (const s of SIGNALS) process.on(s, on);
  return { signal: ac.signal, dispose: () => { for (const s of SIGNALS) process.off(s, on); } };
}

/** Runs `fn` until it ends or a signal comes; the exit code of an interruption is returned, any other failure thrown. */
export async function untilInterrupted(fn: (signal: AbortSignal) => Promise<number>): Promise<number> {
  const stop = interruptible();
  try {
    return await fn(stop.signal);
  } catch (e) {
    if (e instanceof Interrupted) return e.exitCode;
    throw e;
  } finally {
    stop.dispose();
  }
}
