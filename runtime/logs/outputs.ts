/**
 * Where the workers' output goes in the primary: one log buffer for all of
 * them, one bounded passage to each of the primary's own streams, and per
 * worker a tap on its stdout and one on its stderr (held back until ready).
 */
import type { Logger } from 'pino';
import type { ShoalOptions } from '../options.js';
import { LogStore, type LogBounds, type WorkerLog } from './buffer.js';
import { Passage, type DropNote, type OutStream } from './passage.js';
import { StreamTap } from './tap.js';

/** How many bytes of a starting worker's stderr are held back to explain a failed start. */
export const STDERR_HOLD_BYTES = 16 * 1024;

export interface OutputsOptions extends LogBounds {
  /** Longer lines are cut in the buffer (never more than `bytes`, so a line always fits). */
  readonly maxLineBytes: number;
  /** Output waiting for a slow reader of the primary's stream, past which lines are dropped. */
  readonly passMaxBytes: number;
  /** Tag each line with its worker, per stream of the primary. */
  readonly prefix: { readonly stdout: boolean; readonly stderr: boolean };
  /** The primary's streams (process.stdout and process.stderr unless a test gives others). */
  readonly out?: { readonly stdout: OutStream; readonly stderr: OutStream };
}

export interface WorkerOutput {
  readonly stdout: StreamTap;
  readonly stderr: StreamTap;
  readonly log: WorkerLog;
}

export interface Outputs {
  readonly store: LogStore;
  open(worker: number): WorkerOutput;
}

export function createOutputs(o: OutputsOptions, onDropped: (note: DropNote) => void): Outputs {
  const store = new LogStore(o);
  const out = o.out ?? { stdout: process.stdout, stderr: process.stderr };
  const passages = {
    stdout: new Passage('stdout', out.stdout, o.passMaxBytes, onDropped),
    stderr: new Passage('stderr', out.stderr, o.passMaxBytes, onDropped),
  };
  const maxLineBytes = Math.min(o.maxLineBytes, o.bytes);
  return {
    store,
    open(worker) {
      const log = store.open(worker);
      const tap = (stream: 'stdout' | 'stderr', holdBytes = 0): StreamTap =>
        new StreamTap({ stream, worker, log, passage: passages[stream], prefix: o.prefix[stream], maxLineBytes, holdBytes });
      return { stdout: tap('stdout'), stderr: tap('stderr', STDERR_HOLD_BYTES), log };
    },
  };
}

/**
 * The cluster's outputs as its options ask: each of the primary's streams is
 * tagged when it is a terminal, unless logPrefix says otherwise; what could not
 * be passed on is logged once the stream has room again.
 */
export function outputsFor(opts: ShoalOptions, log: Logger): Outputs {
  return createOutputs({
    lines: opts.logLines, bytes: opts.logMemoryBytes, keepExited: opts.logKeepExited,
    maxLineBytes: opts.logLineMaxBytes, passMaxBytes: opts.logPassMaxBytes,
    prefix: { stdout: opts.logPrefix ?? process.stdout.isTTY === true, stderr: opts.logPrefix ?? process.stderr.isTTY === true },
  }, (note) => log.warn(note, `app output dropped: the primary's ${note.stream} was not read fast enough (the lines are still in 'shoal logs')`));
}
