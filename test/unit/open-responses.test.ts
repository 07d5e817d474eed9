/**
 * The worker's set of unfinished responses (open-responses.ts): an array
 * with swap-remove and the slot kept on each response. What must hold
 * whatever order responses finish in: each remove returns that response's
 * own start, the rest stay iterable, a second remove finds nothing.
 */
import { describe, expect, it } from 'vitest';
import http from 'node:http';
import net from 'node:net';
import { OpenResponses } from '../../runtime/worker/open-responses.js';

const response = (): http.ServerResponse => new http.ServerResponse(new http.IncomingMessage(new net.Socket()));

describe('OpenResponses', () => {
  it.each([
    { name: 'first in, first out', order: [0, 1, 2, 3] },
    { name: 'last in, first out', order: [3, 2, 1, 0] },
    { name: 'from the middle', order: [1, 2, 0, 3] },
  ])('returns each response its own start and keeps the others when they finish $name', ({ order }) => {
    const open = new OpenResponses();
    const rs = [response(), response(), response(), response()];
    rs.forEach((r, i) => { open.add(r, 100 + i); });
    const left = new Set(rs);
    for (const i of order) {
      expect(open.remove(rs[i]!)).toBe(100 + i);
      left.delete(rs[i]!);
      expect(new Set(open)).toEqual(left);
      expect(open.size).toBe(left.size);
    }
  });

  it('finds nothing on a second remove, or for a response it never held, and leaves the others alone', () => {
    const open = new OpenResponses();
    const a = response();
    const b = response();
    open.add(a, 1);
    open.add(b, 2);
    expect(open.remove(a)).toBe(1);
    expect(open.remove(a)).toBeUndefined();
    expect(open.remove(response())).toBeUndefined();
    expect([...open]).toEqual([b]);
    expect(open.remove(b)).toBe(2);
    expect(open.size).toBe(0);
  });

  it('takes a response again after it was removed (a slot is not reused stale)', () => {
    const open = new OpenResponses();
    const a = response();
    const b = response();
    open.add(a, 1);
    open.add(b, 2);
    open.remove(a);
    open.add(a, 3);
    expect(open.remove(b)).toBe(2);
    expect([...open]).toEqual([a]);
    expect(open.remove(a)).toBe(3);
  });
});
