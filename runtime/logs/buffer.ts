/**
 * The last lines of every worker's stdout and stderr, kept by the primary
 * for `shoal logs`: per worker at most `lines` lines and `bytes` bytes of
 * line text (the oldest go first), and the lines of the last `keepExited`
 * workers that exited, so that a replaced worker's last words (why it died)
 * are still there after its replacement took over.
 */

export type StreamName = 'stdout' | 'stderr';

export interface LogEntry {
  /** Order of arrival across every worker (lines of one `shoal logs` reply are sorted by it). */
  readonly seq: number;
  readonly worker: number;
  readonly stream: StreamName;
  /** When the primary read it, ms since the epoch. */
  readonly t: number;
  readonly line: string;
  /** The line was longer than the bound: `line` is its head, the rest was not kept. */
  readonly cut: boolean;
}

export interface LogBounds {
  /** Lines kept per worker. */
  readonly lines: number;
  /** Bytes of line text kept per worker. */
  readonly bytes: number;
  /** Exited workers whose lines are kept (the most recent ones). */
  readonly keepExited: number;
}

/** Sees every line recorded from now on, and the end of the store (the cluster stops). */
export interface LogListener {
  line(e: LogEntry): void;
  end(): void;
}

/** A circular buffer of one worker's lines, bounded in count and bytes. */
class LogRing {
  readonly #slots: (LogEntry | undefined)[];
  readonly #sizes: number[];
  readonly #maxBytes: number;
  #head = 0;
  #count = 0;
  #bytes = 0;

  constructor(lines: number, bytes: number) {
    this.#slots = new Array<LogEntry | undefined>(lines);
    this.#sizes = new Array<number>(lines).fill(0);
    this.#maxBytes = bytes;
  }

  get size(): number { return this.#count; }
  get bytes(): number { return this.#bytes; }

  push(e: LogEntry, bytes: number): void {
    if (this.#count === this.#slots.length) this.#dropOldest();
    const i = (this.#head + this.#count) % this.#slots.length;
    this.#slots[i] = e;
    this.#sizes[i] = bytes;
    this.#count++;
    this.#bytes += bytes;
    // The newest line always stays: the splitter never makes one longer than the byte bound.
    while (this.#bytes > this.#maxBytes && this.#count > 1) this.#dropOldest();
  }

  /** The last `n` lines, oldest first. */
  last(n: number): LogEntry[] {
    const k = Math.min(n, this.#count);
    const out: LogEntry[] = [];
    for (let j = this.#count - k; j < this.#count; j++) out.push(this.#slots[(this.#head + j) % this.#slots.length]!);
    return out;
  }

  #dropOldest(): void {
    this.#bytes -= this.#sizes[this.#head]!;
    this.#slots[this.#head] = undefined;
    this.#head = (this.#head + 1) % this.#slots.length;
    this.#count--;
  }
}

/** Where one worker's lines go; closed when the worker's output has ended (it exited). */
export interface WorkerLog {
  record(stream: StreamName, line: string, bytes: number, cut: boolean): void;
  close(): void;
}

export class LogStore {
  readonly #bounds: LogBounds;
  readonly #running = new Map<number, LogRing>();
  /** Oldest first. */
  readonly #exited: { worker: number; ring: LogRing }[] = [];
  readonly #listeners = new Set<{ listener: LogListener; worker: number | undefined }>();
  #seq = 0;

  constructor(bounds: LogBounds) {
    this.#bounds = bounds;
  }

  open(worker: number): WorkerLog {
    const ring = new LogRing(this.#bounds.lines, this.#bounds.bytes);
    this.#running.set(worker, ring);
    return {
      record: (stream, line, bytes, cut) => {
        const e: LogEntry = { seq: ++this.#seq, worker, stream, t: Date.now(), line, cut };
        ring.push(e, bytes);
        for (const l of this.#listeners) if (l.worker === undefined || l.worker === worker) l.listener.line(e);
      },
      close: () => {
        if (!this.#running.delete(worker)) return;
        this.#exited.push({ worker, ring });
        while (this.#exited.length > this.#bounds.keepExited) this.#exited.shift();
      },
    };
  }

  /** Worker ids with lines here: running ones, and exited ones still kept. */
  workers(): { running: number[]; exited: number[] } {
    return { running: [...this.#running.keys()], exited: this.#exited.map((x) => x.worker) };
  }

  has(worker: number): boolean {
    return this.#running.has(worker) || this.#exited.some((x) => x.worker === worker);
  }

  /** The last `n` lines of `worker`, or of every worker kept, oldest first. */
  tail(n: number, worker?: number): LogEntry[] {
    const rings = [...this.#exited.map((x) => [x.worker, x.ring] as const), ...this.#running.entries()]
      .filter(([w]) => worker === undefined || w === worker);
    if (n === 0) return [];
    if (rings.length === 1) return rings[0]![1].last(n);
    return rings.flatMap(([, r]) => r.last(n)).sort((a, b) => a.seq - b.seq).slice(-n);
  }

  /** Calls `listener` for every line recorded from now on (of `worker` only, when given); returns the unsubscribe. */
  listen(listener: LogListener, worker?: number): () => void {
    const entry = { listener, worker };
    this.#listeners.add(entry);
    return () => { this.#listeners.delete(entry); };
  }

  /** What is held (lines and bytes of text, every worker's together) and how many follow it. */
  stats(): { lines: number; bytes: number; followers: number } {
    const rings = [...this.#running.values(), ...this.#exited.map((x) => x.ring)];
    return { lines: rings.reduce((n, r) => n + r.size, 0), bytes: rings.reduce((n, r) => n + r.bytes, 0), followers: this.#listeners.size };
  }

  /** The cluster stops: every listener is told, and none is kept. */
  close(): void {
    for (const l of [...this.#listeners]) l.listener.end();
    this.#listeners.clear();
  }
}
