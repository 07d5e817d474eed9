import { describe, expect, it } from 'vitest';
import { createScheduler, normaliseAddress, type Scheduler, type WorkerLoad } from '../../../runtime/scheduler/index.js';
import { all, cluster, picks, seeded, worker } from './helpers.js';

/** 10,000 random clients, half IPv4 and half IPv6, reproducible. */
function clients(n = 10_000, seed = 2024): string[] {
  const r = seeded(seed);
  const byte = () => Math.floor(r() * 256);
  const group = () => Math.floor(r() * 65536).toString(16);
  return Array.from({ length: n }, (_, i) =>
    i % 2 === 0 ? `${byte()}.${byte()}.${byte()}.${byte()}` : Array.from({ length: 8 }, group).join(':'),
  );
}

function ring(ids: number[], weights: Record<number, number> = {}): Scheduler {
  const s = createScheduler('ip-hash', { slowStartMs: 0 });
  for (const id of ids) s.add(worker(id, { weight: weights[id] ?? 1 }));
  return s;
}

const route = (s: Scheduler, addr: string, eligible: (w: WorkerLoad) => boolean = all) =>
  s.pick({ now: 0, remoteAddress: addr }, eligible)?.id;

const range = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

describe('normaliseAddress', () => {
  it.each([
    ['1.2.3.4', '1.2.3.4'],
    ['::ffff:1.2.3.4', '1.2.3.4'],
    ['::FFFF:1.2.3.4', '1.2.3.4'],
    ['::ffff:0102:0304', '1.2.3.4'],
    ['0:0:0:0:0:ffff:102:304', '1.2.3.4'],
    ['::ffff:255.255.255.255', '255.255.255.255'],
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
    ['2001:0db8::0001', '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // equal runs: the first is compressed
    ['2001:db8:0:0:1:0:0:0', '2001:db8:0:0:1::'], // the longer run wins
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // a single zero group is not compressed
    ['0:0:0:0:0:0:0:1', '::1'],
    ['::', '::'],
    ['fe80::1%eth0', 'fe80::1'],
    ['::1.2.3.4', '::102:304'], // IPv4-compatible (deprecated) is not IPv4-mapped
    ['::ffff:1.2.3.256', '::ffff:1.2.3.256'], // invalid: left as is
    ['1::2::3', '1::2::3'],
    ['Not-An-IP', 'not-an-ip'],
  ])('%s -> %s', (input, expected) => {
    expect(normaliseAddress(input)).toBe(expected);
  });
});

describe('ip-hash', () => {
  const addrs = clients();

  it('affinity: the same client goes to the same worker every time, whatever the loads', () => {
    const c = cluster('ip-hash', [{ name: 'a' }, { name: 'b' }, { name: 'c' }, { name: 'd' }]);
    for (const addr of addrs.slice(0, 200)) {
      const seq = picks(c, 20, { addr, connect: true });
      expect(new Set(seq).size).toBe(1);
    }
  });

  it('an IPv4 client and its IPv4-mapped IPv6 form go to the same worker', () => {
    const s = ring(range(8));
    const v4 = addrs.filter((a) => !a.includes(':')).slice(0, 500);
    for (const a of v4) expect(route(s, `::ffff:${a}`)).toBe(route(s, a));
  });

  it('different spellings of one IPv6 address go to the same worker', () => {
    const s = ring(range(8));
    const spellings = ['2001:db8::1', '2001:DB8:0:0:0:0:0:1', '2001:0db8:0000::0001', '2001:db8::1%en0'];
    expect(new Set(spellings.map((a) => route(s, a))).size).toBe(1);
  });

  it.each([4, 8])('spreads 10k clients (IPv4 and IPv6) evenly over %i workers: each within ±25%% of 1/N', (n) => {
    const s = ring(range(n));
    const counts = new Map<number | undefined, number>();
    for (const a of addrs) counts.set(route(s, a), (counts.get(route(s, a)) ?? 0) + 1);
    expect([...counts.keys()].sort((x, y) => (x ?? 0) - (y ?? 0))).toEqual(range(n));
    for (const c of counts.values()) {
      expect(c / addrs.length).toBeGreaterThan((1 / n) * 0.75);
      expect(c / addrs.length).toBeLessThan((1 / n) * 1.25);
    }
  });

  it.each([4, 8])('IPv6 clients alone also spread over all %i workers', (n) => {
    const s = ring(range(n));
    const v6 = addrs.filter((a) => a.includes(':'));
    expect(new Set(v6.map((a) => route(s, a))).size).toBe(n);
  });

  describe.each([4, 8])('N = %i', (n) => {
    it.each(range(n))('removing worker %i remaps only its own clients, about 1/N of all', (removed) => {
      const s = ring(range(n));
      const before = addrs.map((a) => route(s, a));
      s.remove(removed);
      let moved = 0;
      addrs.forEach((a, i) => {
        const now = route(s, a);
        if (before[i] === removed) {
          expect(now).not.toBe(removed);
          moved++;
        } else {
          expect(now).toBe(before[i]);
        }
      });
      expect(Math.abs(moved / addrs.length - 1 / n)).toBeLessThan(0.03);
    });

    it('adding the removed worker back restores every mapping', () => {
      const s = ring(range(n));
      const before = addrs.map((a) => route(s, a));
      s.remove(2);
      s.add(worker(2));
      expect(addrs.map((a) => route(s, a))).toEqual(before);
    });
  });

  it('the mapping does not depend on the order workers were added in', () => {
    const a = ring([1, 2, 3, 4, 5]);
    const b = ring([4, 2, 5, 1, 3]);
    for (const addr of addrs.slice(0, 1000)) expect(route(b, addr)).toBe(route(a, addr));
  });

  it('a worker of weight 2 gets about twice the clients of a weight-1 worker', () => {
    const s = ring([1, 2, 3], { 1: 2 });
    const share = addrs.filter((a) => route(s, a) === 1).length / addrs.length;
    expect(share).toBeGreaterThan(0.5 * 0.85);
    expect(share).toBeLessThan(0.5 * 1.15);
  });

  it('affinity yields to credit: an ineligible home worker sends the client where removal would, and it returns after', () => {
    const s = ring(range(4));
    const without3 = ring([1, 2, 4]);
    const onThree = addrs.filter((a) => route(s, a) === 3).slice(0, 300);
    expect(onThree.length).toBe(300);
    for (const a of onThree) {
      expect(route(s, a, (w) => w.id !== 3)).toBe(route(without3, a));
      expect(route(s, a)).toBe(3);
    }
  });

  it('walks past several ineligible workers to the one eligible', () => {
    const s = ring(range(8));
    for (const a of addrs.slice(0, 300)) expect(route(s, a, (w) => w.id === 6)).toBe(6);
  });

  it.each([{ addr: undefined }, { addr: '' }])('without a client address ($addr) falls back to round robin', ({ addr }) => {
    const c = cluster('ip-hash', [{ name: 'a' }, { name: 'b' }, { name: 'c' }]);
    expect(picks(c, 7, { addr }).join(' ')).toBe('a b c a b c a');
    expect(picks(c, 4, { addr, eligible: c.only('a', 'c') }).join(' ')).toBe('c a c a');
  });
});
