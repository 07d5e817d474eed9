/**
 * A worker's stream on its way through the primary: tagged when asked,
 * held back until released, and, when the primary's own stream is full,
 * dropped whole lines at a time with a count reported once it drains.
 */
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { LogStore } from '../../../runtime/logs/buffer.js';
import { Passage, type DropNote } from '../../../runtime/logs/passage.js';
import { StreamTap } from '../../../runtime/logs/tap.js';

/** A stream whose pending bytes the test sets, as a pipe nobody reads would have. */
class FakeOut extends EventEmitter {
  written: Buffer[] = [];
  writableLength = 0;
  write(b: Buffer): boolean { this.written.push(b); return true; }
  text(): string { return Buffer.concat(this.written).toString(); }
}

function setup(o: { prefix?: boolean; holdBytes?: number; maxPending?: number; maxLineBytes?: number } = {}) {
  const out = new FakeOut();
  const notes: DropNote[] = [];
  const store = new LogStore({ lines: 100, bytes: 1e6, keepExited: 1 });
  const passage = new Passage('stdout', out, o.maxPending ?? 1000, (n) => notes.push(n));
  const tap = new StreamTap({ stream: 'stdout', worker: 3, log: store.open(3), passage, prefix: o.prefix ?? false, maxLineBytes: o.maxLineBytes ?? 1024, holdBytes: o.holdBytes ?? 0 });
  return { out, notes, store, tap };
}

describe('StreamTap', () => {
  it('unprefixed, the bytes pass unchanged, whole lines only, one write per chunk', () => {
    const { out, tap, store } = setup();
    tap.push(Buffer.from('{"a":1}\n{"b":2}\n{"c"'));
    expect(out.written).toHaveLength(1);
    tap.push(Buffer.from(':3}\n'));
    expect(out.text()).toBe('{"a":1}\n{"b":2}\n{"c":3}\n');
    expect(store.tail(10).map((e) => e.line)).toEqual(['{"a":1}', '{"b":2}', '{"c":3}']);
  });

  it('prefixed, each line starts with the worker tag', () => {
    const { out, tap } = setup({ prefix: true });
    tap.push(Buffer.from('one\ntw'));
    tap.push(Buffer.from('o\n'));
    expect(out.text()).toBe('[w3] one\n[w3] two\n');
  });

  it('held back until released: recorded at once, printed once on release, the newest kept within the bound', () => {
    const { out, tap, store } = setup({ holdBytes: 8 });
    tap.push(Buffer.from('aaaa\nbbbb\ncccc\ndd'));
    expect(out.written).toHaveLength(0);
    expect(store.tail(10).map((e) => e.line)).toEqual(['aaaa', 'bbbb', 'cccc']);
    expect(tap.held()).toBe('cccc\ndd');
    tap.release();
    tap.release();
    tap.push(Buffer.from('\n'));
    expect(out.text()).toBe('cccc\ndd\n');
  });

  it('a full stream: whole lines are dropped and counted, the note comes on drain, and lines pass again', () => {
    const { out, tap, notes, store } = setup({ maxPending: 100 });
    out.writableLength = 100;
    tap.push(Buffer.from('lost 1\nlost 2\nhal'));
    expect(out.written).toHaveLength(0);
    expect(notes).toEqual([]);
    out.writableLength = 0;
    out.emit('drain');
    expect(notes).toEqual([{ stream: 'stdout', lines: 2, bytes: 14 }]);
    tap.push(Buffer.from('f\nback\n'));
    expect(out.text()).toBe('half\nback\n');
    // Every line is still in the buffer.
    expect(store.tail(10).map((e) => e.line)).toEqual(['lost 1', 'lost 2', 'half', 'back']);
  });

  it('a line longer than the bound, in pieces: no piece of it goes out without the rest, whichever way the stream turns', () => {
    const { out, tap, notes } = setup({ maxPending: 100, maxLineBytes: 8, prefix: true });
    tap.push(Buffer.from('admitted-long'));
    out.writableLength = 100;
    tap.push(Buffer.from('-still\n'));
    tap.push(Buffer.from('dropped-long'));
    out.writableLength = 0;
    tap.push(Buffer.from('-still-dropped\nnext\n'));
    expect(out.text()).toBe('[w3] admitted-long-still\n[w3] next\n');
    out.emit('drain');
    expect(notes).toEqual([{ stream: 'stdout', lines: 1, bytes: 'dropped-long-still-dropped\n'.length }]);
  });
});
