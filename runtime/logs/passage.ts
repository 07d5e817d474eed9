/**
 * The way from the workers' output to the primary's own stdout (or stderr),
 * bounded. Node writes to a pipe asynchronously: when nobody reads the pipe
 * (or reads it slowly), what is written piles up in the stream's buffer, in
 * the primary's memory. So a line is let through only while less than
 * `maxPendingBytes` wait there; past that, whole lines are dropped (never
 * part of one), counted, and reported once the stream has drained. The
 * workers never wait for this: a slow reader of the primary's output costs
 * them nothing, and what was dropped here is still in the log buffer.
 */
import type { StreamName } from './buffer.js';

/** process.stdout or process.stderr, as far as the passage uses it. */
export interface OutStream {
  write(bytes: Buffer): boolean;
  readonly writableLength: number;
  once(event: 'drain', fn: () => void): unknown;
}

export interface DropNote { readonly stream: StreamName; readonly lines: number; readonly bytes: number }

export class Passage {
  readonly stream: StreamName;
  readonly #out: OutStream;
  readonly #maxPendingBytes: number;
  readonly #onDropped: (note: DropNote) => void;
  #lines = 0;
  #bytes = 0;
  #waiting = false;

  constructor(stream: StreamName, out: OutStream, maxPendingBytes: number, onDropped: (note: DropNote) => void) {
    this.stream = stream;
    this.#out = out;
    this.#maxPendingBytes = maxPendingBytes;
    this.#onDropped = onDropped;
  }

  /** Whether a new line may go out now. Files and terminals are written synchronously: they always admit. */
  admits(): boolean { return this.#out.writableLength < this.#maxPendingBytes; }

  write(bytes: Buffer): void { this.#out.write(bytes); }

  /** Counts what was not let through; the note comes when the stream has room again. */
  dropped(lines: number, bytes: number): void {
    this.#lines += lines;
    this.#bytes += bytes;
    if (this.#waiting) return;
    this.#waiting = true;
    this.#out.once('drain', () => {
      this.#waiting = false;
      const note = { stream: this.stream, lines: this.#lines, bytes: this.#bytes };
      this.#lines = 0;
      this.#bytes = 0;
      this.#onDropped(note);
    });
  }
}
