/**
 * Splits a worker's output stream into lines, for two consumers at once:
 * the log buffer, which wants each line as text, and the pass-through to
 * the primary's own stdout/stderr, which wants the bytes unchanged, whole
 * lines at a time (so lines of different workers never interleave).
 *
 * A chunk may end mid-line: the partial line is kept until its newline
 * comes (or the stream ends). A line that grows past `maxLineBytes` without
 * one is cut there: the buffer keeps its head (marked cut) and drops the
 * rest; the pass-through sends the head, then the rest as it comes, so no
 * byte is lost on the way and memory stays bounded per stream.
 */

/** Bytes for the pass-through; `start`: they begin a line (where a prefix goes). */
export interface Piece { readonly bytes: Buffer; readonly start: boolean }

/** A line for the buffer: its text without the newline, its size in bytes, and whether it was cut at the bound. */
export interface Line { readonly text: string; readonly bytes: number; readonly cut: boolean }

export interface Split { readonly lines: Line[]; readonly pieces: Piece[] }

const NL = 0x0a;
const NEWLINE = Buffer.from('\n');

/** Text of a line's bytes: no newline or carriage return at its end, cut back to a whole UTF-8 character. */
function textOf(bytes: Buffer, max: number): Line {
  let end = bytes.length;
  if (end > 0 && bytes[end - 1] === NL) end--;
  if (end > 0 && bytes[end - 1] === 0x0d) end--;
  if (end <= max) return { text: bytes.toString('utf8', 0, end), bytes: end, cut: false };
  let cutAt = max;
  // Never split a character: back off over continuation bytes (10xxxxxx) to its first byte.
  while (cutAt > 0 && ((bytes[cutAt] ?? 0) & 0xc0) === 0x80) cutAt--;
  return { text: bytes.toString('utf8', 0, cutAt), bytes: cutAt, cut: true };
}

export class LineSplitter {
  readonly #maxLineBytes: number;
  #held: Buffer[] = [];
  #heldBytes = 0;
  /** The line in progress was cut: its head is out, the rest passes through until its newline. */
  #cut = false;

  constructor(maxLineBytes: number) {
    this.#maxLineBytes = maxLineBytes;
  }

  /** The partial line held back (not yet passed on). */
  pending(): Buffer { return Buffer.concat(this.#held); }

  push(chunk: Buffer): Split {
    const lines: Line[] = [];
    const pieces: Piece[] = [];
    let from = 0;
    let nl: number;
    while ((nl = chunk.indexOf(NL, from)) >= 0) {
      const end = chunk.subarray(from, nl + 1);
      from = nl + 1;
      if (this.#cut) { pieces.push({ bytes: end, start: false }); this.#cut = false; continue; }
      const whole = this.#heldBytes === 0 ? end : Buffer.concat([...this.#held, end]);
      this.#held = [];
      this.#heldBytes = 0;
      lines.push(textOf(whole, this.#maxLineBytes));
      pieces.push({ bytes: whole, start: true });
    }
    if (from < chunk.length) this.#partial(chunk.subarray(from), lines, pieces);
    return { lines, pieces };
  }

  /** The stream ended: a last line without a newline is passed on with one, so the next writer starts a line of its own. */
  end(): Split {
    if (this.#cut) { this.#cut = false; return { lines: [], pieces: [{ bytes: NEWLINE, start: false }] }; }
    if (this.#heldBytes === 0) return { lines: [], pieces: [] };
    const whole = Buffer.concat([...this.#held, NEWLINE]);
    this.#held = [];
    this.#heldBytes = 0;
    return { lines: [textOf(whole, this.#maxLineBytes)], pieces: [{ bytes: whole, start: true }] };
  }

  #partial(rest: Buffer, lines: Line[], pieces: Piece[]): void {
    if (this.#cut) { pieces.push({ bytes: rest, start: false }); return; }
    // A copy: the chunk's memory is not pinned by the few bytes kept from it.
    this.#held.push(Buffer.from(rest));
    this.#heldBytes += rest.length;
    if (this.#heldBytes <= this.#maxLineBytes) return;
    const head = Buffer.concat(this.#held);
    this.#held = [];
    this.#heldBytes = 0;
    this.#cut = true;
    lines.push({ ...textOf(head, this.#maxLineBytes), cut: true });
    pieces.push({ bytes: head, start: true });
  }
}
