/** What a Redis change-log entry means to a host (runtime/session/redis/log-place.ts). */
import { describe, expect, it } from 'vitest';
import { parseEntry } from '../../../runtime/session/redis/log-place.js';
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
