/** What a Redis change-log entry means to a host (runtime/session/redis/log-place.ts). */
import { describe, expect, it } from 'vitest';
import { entryNumber, LogPlace, parseEntry } from '../../../runtime/session/redis/log-place.js';
import { formatHlc } from '../../../runtime/session/hlc.js';
import { setAttr } from '../../../runtime/session/model.js';

const changes = [['sid-1', setAttr('who', 'ann', formatHlc({ wall: 1, logical: 0, node: 'w' }))]];
const entry = (host: string, body: string): string[] => ['h', host, 'c', body];

describe('parseEntry', () => {
  it('another host\'s changes come back as changes', () => {
    expect(parseEntry(entry('h-other', JSON.stringify(changes)), 'h-me')).toEqual({ changes: JSON.parse(JSON.stringify(changes)) });
  });
  it('this host\'s own entry, or one without a body, is nothing to apply', () => {
    expect(parseEntry(entry('h-me', JSON.stringify(changes)), 'h-me')).toBeUndefined();
    expect(parseEntry(['h', 'h-other'], 'h-me')).toBeUndefined();
  });
  it.each([
    ['not JSON', '{'],
    ['not a list', '{"a":1}'],
    ['a bad version', JSON.stringify([['sid-1', { attrs: { who: { version: 'nope', value: 1 } } }]])],
    ['an id with a space', JSON.stringify([['bad id', {}]])],
  ])('%s is a problem to log and skip', (_what, body) => {
    expect(parseEntry(entry('h-other', body), 'h-me')).toHaveProperty('problem');
  });
});

describe('LogPlace.advance', () => {
  it.each([
    ['the next number', [1, 2, 3], [true, true, true]],
    ['a jump (entries trimmed before they were read)', [1, 2, 5], [true, true, false]],
    ['a number not past the place (the log started over)', [1, 2, 1], [true, true, false]],
    ['the same number again', [1, 1], [true, false]],
  ])('%s', (_what, numbers, expected) => {
    const place = new LogPlace('log');
    expect(numbers.map((n, i) => place.advance(`${i + 1}-0`, n))).toEqual(expected);
    expect(place.n).toBe(numbers.at(-1));
    expect(place.id).toBe(`${numbers.length}-0`);
  });
  it('an entry without a number moves the id, not the number, and is not a gap', () => {
    const place = new LogPlace('log');
    expect(place.advance('1-0', 1)).toBe(true);
    expect(place.advance('2-0', undefined)).toBe(true);
    expect(place).toMatchObject({ id: '2-0', n: 1 });
    expect(place.advance('3-0', 2)).toBe(true);
  });
  it('forget() leaves no place and makes reads begun before it stale', () => {
    const place = new LogPlace('log');
    place.advance('1-0', 1);
    const gen = place.gen;
    place.forget();
    expect(place.known).toBe(false);
    expect(place.gen).toBe(gen + 1);
  });
});

describe('entryNumber', () => {
  it.each([
    [['n', '7', 'h', 'x', 'c', '[]'], 7],
    [['h', 'x', 'c', '[]', 'n', '12'], 12],
    [['h', 'x', 'c', '[]'], undefined],
    [['n', '0'], undefined],
    [['n', '-3'], undefined],
    [['n', '1.5'], undefined],
    [['n', 'abc'], undefined],
    [['n'], undefined],
  ])('%j -> %s', (fields, n) => {
    expect(entryNumber(fields)).toBe(n);
  });
});
