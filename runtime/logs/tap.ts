/**
 * One worker's stdout or stderr, as the primary reads it: every line goes to
 * the log buffer as it arrives; the bytes go on to the primary's own stream
 * unchanged, with the worker's tag in front of each line when asked (on a
 * terminal, or with --log-prefix), or are held back first (stderr, until the
 * worker is ready: a start that fails prints its error once, not once per
 * retry, and where the app failed is read from what was held).
 */
import type { StreamName, WorkerLog } from './buffer.js';
import { LineSplitter, type Piece, type Split } from './lines.js';
import type { Passage } from './passage.js';

/** The tag in front of a worker's lines: `[w3] ` for stdout, `[w3 err] ` for stderr. */
export const prefixFor = (worker: number, stream: StreamName): string => (stream === 'stdout' ? `[w${worker}] ` : `[w${worker} err] `);

export interface TapOptions {
  readonly stream: StreamName;
  readonly worker: number;
  readonly log: WorkerLog;
  readonly passage: Passage;
  readonly prefix: boolean;
  readonly maxLineBytes: number;
  /** Hold the output back (up to this many bytes, the newest kept) until release(); 0: pass it at once. */
  readonly holdBytes?: number;
}

export class StreamTap {
  readonly #stream: StreamName;
  readonly #log: WorkerLog;
  readonly #passage: Passage;
  readonly #prefix: Buffer | undefined;
  readonly #splitter: LineSplitter;
  readonly #holdBytes: number;
  #held: Piece[] = [];
  #heldBytes = 0;
  #holding: boolean;
  /** The line now passing was dropped (the primary's stream was full): so is the rest of it. */
  #dropping = false;

  constructor(o: TapOptions) {
    this.#stream = o.stream;
    this.#log = o.log;
    this.#passage = o.passage;
    this.#prefix = o.prefix ? Buffer.from(prefixFor(o.worker, o.stream)) : undefined;
    this.#splitter = new LineSplitter(o.maxLineBytes);
    this.#holdBytes = o.holdBytes ?? 0;
    this.#holding = this.#holdBytes > 0;
  }

  push(chunk: Buffer): void { this.#take(this.#splitter.push(chunk)); }

  end(): void { this.#take(this.#splitter.end()); }

  /** What is held back, the line in progress included. */
  held(): string {
    return Buffer.concat([...this.#held.map((p) => p.bytes), this.#splitter.pending()]).toString('utf8');
  }

  /** Stops holding back: passes on what was held (unless `print` is false) and the rest as it comes. */
  release(print = true): void {
    if (!this.#holding) return;
    this.#holding = false;
    if (print && this.#held.length > 0) this.#pass(this.#held);
    this.#held = [];
    this.#heldBytes = 0;
  }

  #take(split: Split): void {
    for (const l of split.lines) this.#log.record(this.#stream, l.text, l.bytes, l.cut);
    if (split.pieces.length === 0) return;
    if (!this.#holding) { this.#pass(split.pieces); return; }
    for (const p of split.pieces) { this.#held.push(p); this.#heldBytes += p.bytes.length; }
    while (this.#heldBytes > this.#holdBytes && this.#held.length > 1) this.#heldBytes -= this.#held.shift()!.bytes.length;
  }

  /** One write per chunk read: its whole lines, tagged when asked; or, when the stream is full, none of them. */
  #pass(pieces: readonly Piece[]): void {
    const admit = this.#passage.admits();
    const out: Buffer[] = [];
    let lines = 0;
    let bytes = 0;
    for (const p of pieces) {
      if (p.start) this.#dropping = !admit;
      if (this.#dropping) { if (p.start) lines++; bytes += p.bytes.length; continue; }
      if (p.start && this.#prefix) out.push(this.#prefix);
      out.push(p.bytes);
    }
    if (out.length > 0) this.#passage.write(out.length === 1 ? out[0]! : Buffer.concat(out));
    if (bytes > 0) this.#passage.dropped(lines, bytes);
  }
}
