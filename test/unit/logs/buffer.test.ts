/** The log buffer: bounded per worker in lines and bytes, exited workers kept up to a count, listeners. */
import { describe, expect, it } from 'vitest';
import { LogStore, type LogEntry } from '../../../runtime/logs/buffer.js';

const record = (log: { record: (s: 'stdout' | 'stderr', l: string, b: number, c: boolean) => void }, ...lines: string[]): void => {
  for (const l of lines) log.record('stdout', l, Buffer.byteLength(l), false);
};
const texts = (es: LogEntry[]): string[] => es.map((e) => `${e.worker}:${e.line}`);

describe('LogStore', () => {
  it('keeps at most `lines` lines per worker, the newest', () => {
    const store = new LogStore({ lines: 3, bytes: 1e6, keepExited: 1 });
    const w = store.open(1);
    record(w, 'a', 'b', 'c', 'd', 'e');
    expect(texts(store.tail(10))).toEqual(['1:c', '1:d', '1:e']);
    expect(store.stats()).toEqual({ lines: 3, bytes: 3, followers: 0 });
  });

  it('keeps at most `bytes` bytes of text per worker', () => {
    const store = new LogStore({ lines: 100, bytes: 10, keepExited: 1 });
    const w = store.open(1);
    record(w, '1234', '5678', 'abcd');
    expect(texts(store.tail(10))).toEqual(['1:5678', '1:abcd']);
    expect(store.stats().bytes).toBeLessThanOrEqual(10);
  });

  it('tail merges workers in order of arrival and takes the last n; a worker filter; 0 lines', () => {
    const store = new LogStore({ lines: 10, bytes: 1e6, keepExited: 1 });
    const [one, two] = [store.open(1), store.open(2)];
    record(one, 'x');
    record(two, 'y');
    record(one, 'z');
    expect(texts(store.tail(2))).toEqual(['2:y', '1:z']);
    expect(texts(store.tail(5, 1))).toEqual(['1:x', '1:z']);
    expect(store.tail(0)).toEqual([]);
  });

  it('an exited worker keeps its lines until more than keepExited workers have exited after it', () => {
    const store = new LogStore({ lines: 10, bytes: 1e6, keepExited: 2 });
    const logs = [1, 2, 3].map((id) => { const l = store.open(id); record(l, `last words of ${id}`); return l; });
    for (const l of logs) l.close();
    expect(store.workers()).toEqual({ running: [], exited: [2, 3] });
    expect(store.has(1)).toBe(false);
    expect(texts(store.tail(10))).toEqual(['2:last words of 2', '3:last words of 3']);
  });

  it('listeners see new lines (of their worker only, when asked) and the end; unsubscribing stops them', () => {
    const store = new LogStore({ lines: 10, bytes: 1e6, keepExited: 1 });
    const [one, two] = [store.open(1), store.open(2)];
    const all: string[] = [];
    const onlyTwo: string[] = [];
    let ended = 0;
    const off = store.listen({ line: (e) => all.push(e.line), end: () => ended++ });
    store.listen({ line: (e) => onlyTwo.push(e.line), end: () => ended++ }, 2);
    record(one, 'a');
    record(two, 'b');
    off();
    record(one, 'c');
    store.close();
    expect(all).toEqual(['a', 'b']);
    expect(onlyTwo).toEqual(['b']);
    expect(ended).toBe(1);
  });
});
