/** The line splitter: however the output is chunked, the same lines, and every byte passed on once, in order. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { LineSplitter, type Split } from '../../../runtime/logs/lines.js';

const b = (s: string): Buffer => Buffer.from(s);

/** Feeds `chunks`, then ends the stream; returns every line and the bytes passed on. */
function run(chunks: Buffer[], max = 1024): { lines: { text: string; cut: boolean }[]; passed: Buffer; starts: number } {
  const s = new LineSplitter(max);
  const all: Split[] = [...chunks.map((c) => s.push(c)), s.end()];
  return {
    lines: all.flatMap((x) => x.lines.map((l) => ({ text: l.text, cut: l.cut }))),
    passed: Buffer.concat(all.flatMap((x) => x.pieces.map((p) => p.bytes))),
    starts: all.reduce((n, x) => n + x.pieces.filter((p) => p.start).length, 0),
  };
}

describe('LineSplitter', () => {
  it('keeps a partial line until its newline comes in a later chunk', () => {
    const s = new LineSplitter(1024);
    const first = s.push(b('{"a":1}\n{"b"'));
    expect(first.lines.map((l) => l.text)).toEqual(['{"a":1}']);
    expect(Buffer.concat(first.pieces.map((p) => p.bytes)).toString()).toBe('{"a":1}\n');
    expect(s.pending().toString()).toBe('{"b"');
    const second = s.push(b(':2}\n'));
    expect(second.lines).toEqual([{ text: '{"b":2}', bytes: 7, cut: false }]);
    expect(second.pieces).toEqual([{ bytes: b('{"b":2}\n'), start: true }]);
  });

  it('a last line without a newline is passed on with one at the end of the stream', () => {
    const r = run([b('one\ntwo')]);
    expect(r.lines.map((l) => l.text)).toEqual(['one', 'two']);
    expect(r.passed.toString()).toBe('one\ntwo\n');
  });

  it('CRLF: the buffer gets the text without the CR, the pass-through the bytes as they were', () => {
    const r = run([b('dos\r\n')]);
    expect(r.lines).toEqual([{ text: 'dos', cut: false }]);
    expect(r.passed.toString()).toBe('dos\r\n');
  });

  it('a line past the bound is cut in the buffer (marked), passed on whole, and what follows it is a line of its own', () => {
    const long = 'x'.repeat(50);
    const r = run([b(long.slice(0, 20)), b(long.slice(20, 40)), b(`${long.slice(40)}\nnext\n`)], 16);
    expect(r.lines).toEqual([{ text: 'x'.repeat(16), cut: true }, { text: 'next', cut: false }]);
    expect(r.passed.toString()).toBe(`${long}\nnext\n`);
    // The prefix goes before the head and before 'next', never inside the long line.
    expect(r.starts).toBe(2);
  });

  it('a long line that arrives in one chunk is cut the same way', () => {
    const r = run([b(`${'y'.repeat(40)}\n`)], 16);
    expect(r.lines).toEqual([{ text: 'y'.repeat(16), cut: true }]);
    expect(r.passed.toString()).toBe(`${'y'.repeat(40)}\n`);
  });

  it('a cut never splits a UTF-8 character', () => {
    const r = run([b(`${'é'.repeat(20)}\n`)], 15);
    expect(r.lines[0]).toEqual({ text: 'é'.repeat(7), cut: true });
  });

  it('memory stays bounded: a line that never ends is not held past the bound', () => {
    const s = new LineSplitter(100);
    for (let i = 0; i < 1000; i++) s.push(b('z'.repeat(64)));
    expect(s.pending().length).toBe(0);
  });

  it('property: any chunking gives the lines of the whole text, and passes every byte on in order', () => {
    fc.assert(fc.property(
      fc.array(fc.constantFrom('a', 'b', '{', '"', '\n', 'é', ' '), { maxLength: 200 }).map((cs) => cs.join('')),
      fc.array(fc.nat(30), { maxLength: 20 }),
      (text, cuts) => {
        const bytes = b(text);
        const points = [...new Set(cuts.map((c) => Math.min(c * 7, bytes.length)))].sort((x, y) => x - y);
        const chunks = [0, ...points, bytes.length].slice(1).map((end, i, a) => bytes.subarray(i === 0 ? 0 : a[i - 1], end)).filter((c) => c.length > 0);
        const r = run(chunks, 10_000);
        const expected = text.endsWith('\n') || text === '' ? text : `${text}\n`;
        expect(r.passed.toString()).toBe(expected);
        expect(r.lines.map((l) => l.text)).toEqual(expected === '' ? [] : expected.slice(0, -1).split('\n'));
      },
    ));
  });
});
