/**
 * One SessionHub and several Replicas wired in-process. Each direction of each
 * worker's channel is a FIFO of setImmediate deliveries (setImmediate runs in
 * queue order, so per-channel order holds), and every message goes through a
 * JSON round trip, as the real IPC channel (serialization 'json') does.
 * `events` records every delivery in order, so tests can assert causality.
 */
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { isShoalError } from '../../../runtime/errors.js';
import type { ToPrimary, ToWorker } from '../../../runtime/ipc/messages.js';
import { formatHlc } from '../../../runtime/session/hlc.js';
import { SYNC_SLICE_BYTES, SessionHub, type Member } from '../../../runtime/session/hub.js';
import { newSessionId } from '../../../runtime/session/ids.js';
import { destroySession, getAttr, setAttr, view, type Delta } from '../../../runtime/session/model.js';
import { Replica, type ReplicaOptions } from '../../../runtime/session/replica.js';

type SessMsg = Extract<ToWorker, { shoal: `sess-${string}` }>;
const wire = <T>(m: T): T => JSON.parse(JSON.stringify(m)) as T;
const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

interface Worker {
  readonly id: number;
  readonly member: Member;
  readonly replica: Replica | undefined;
  readonly inbox: SessMsg[];
  /** sess-sync slices sent and not yet written to the channel (cb not called). */
  syncInFlight: number;
  maxSyncInFlight: number;
}

interface AddOptions extends ReplicaOptions {
  /** No replica behind the channel: messages are only recorded (a worker that never answers). */
  readonly silent?: boolean;
  /** Runs on each delivery, before the replica handles the message. */
  readonly onDeliver?: (m: SessMsg, w: Worker) => void;
  readonly attach?: boolean;
}

class Net {
  readonly hub = new SessionHub(pino({ level: 'silent' }));
  readonly events: string[] = [];
  readonly workers: Worker[] = [];
  #inFlight = 0;

  add(id: number, o: AddOptions = {}): Worker {
    const toHub = (msg: ToPrimary): void => this.#post(() => {
      this.events.push(`hub<-${id}:${msg.shoal}`);
      if (msg.shoal === 'sess-write') this.hub.write(w.member, msg.seq, msg.t, msg.changes);
      else if (msg.shoal === 'sess-stats') this.hub.answer(w.member, msg.probe, msg.stats);
      else if (msg.shoal === 'sess-fetch') this.hub.fetch(w.member, msg.req, msg.id, msg.min);
    }, msg);
    const member: Member = {
      id,
      send: (raw, _handle, cb) => {
        const msg = raw as SessMsg;
        if (msg.shoal === 'sess-sync') w.maxSyncInFlight = Math.max(w.maxSyncInFlight, ++w.syncInFlight);
        this.#post((m) => {
          w.inbox.push(m);
          this.events.push(`${id}<-${m.shoal}`);
          o.onDeliver?.(m, w);
          const reply = w.replica?.receive(m);
          if (reply) toHub(reply);
          if (m.shoal === 'sess-sync') w.syncInFlight--;
          cb?.(null);
        }, msg);
        return true;
      },
    };
    const replica = o.silent ? undefined : new Replica({ ...o, send: toHub });
    const w: Worker = { id, member, replica, inbox: [], syncInFlight: 0, maxSyncInFlight: 0 };
    this.workers.push(w);
    if (o.attach ?? true) this.hub.attach(member);
    return w;
  }

  /** Delivers until every replica's outbox and every channel is empty (bounded, so a livelock fails). */
  async settle(): Promise<void> {
    for (let i = 0; i < 100_000; i++) {
      for (const w of this.workers) w.replica?.flush();
      if (this.#inFlight === 0) return;
      await turn();
    }
    throw new Error('the network did not settle');
  }

  close(): void {
    for (const w of this.workers) w.replica?.close();
    this.hub.close();
  }

  #post<T>(deliver: (m: T) => void, msg: T): void {
    const copy = wire(msg);
    this.#inFlight++;
    setImmediate(() => { this.#inFlight--; deliver(copy); });
  }
}

let net: Net;
afterEach(() => net?.close());

const three = async (opts: AddOptions[] = []): Promise<Worker[]> => {
  net = new Net();
  const ws = [1, 2, 3].map((id, i) => net.add(id, opts[i]));
  await net.settle();
  return ws;
};
const r = (w: Worker): Replica => w.replica!;

describe('replication through the hub', () => {
  it('a write on A reaches B, C and the hub; replicated() resolves after the ack, which follows the fan-out', async () => {
    const [a, b, c] = await three();
    expect(net.events.filter((e) => e.endsWith('sess-synced')).sort()).toEqual(['hub<-1:sess-synced', 'hub<-2:sess-synced', 'hub<-3:sess-synced']);
    const id = newSessionId();
    r(a!).write(id, setAttr('x', 1, r(a!).version()));
    const done = r(a!).replicated().then(() => { net.events.push('A replicated'); });
    // Nothing has left A yet: the channels are asynchronous.
    expect(net.hub.store.get(id)).toBeUndefined();
    await done;
    // Read-your-writes: by the time A may answer, B and C have applied the change.
    expect(getAttr(r(b!).get(id)!, 'x')).toBe(1);
    expect(getAttr(r(c!).get(id)!, 'x')).toBe(1);
    expect(getAttr(net.hub.store.get(id)!, 'x')).toBe(1);
    const at = (e: string): number => net.events.indexOf(e);
    expect(at('2<-sess-delta')).toBeGreaterThan(at('hub<-1:sess-write'));
    expect(at('2<-sess-delta')).toBeLessThan(at('1<-sess-ack'));
    expect(at('3<-sess-delta')).toBeLessThan(at('1<-sess-ack'));
    expect(at('A replicated')).toBeGreaterThan(at('1<-sess-ack'));
    // The writer does not get its own change back.
    expect(a!.inbox.filter((m) => m.shoal === 'sess-delta')).toEqual([]);
  });

  it('the saves of one turn share one message and one ack; a save whose write already left waits for that message', async () => {
    const [a, b] = await three();
    const ids = [newSessionId(), newSessionId(), newSessionId()];
    const mark = net.events.length;
    // Three requests served in one turn, each writing then waiting for its save.
    const saves = ids.map((id, i) => { r(a!).write(id, setAttr('n', i, r(a!).version())); return r(a!).replicated(); });
    await Promise.all(saves);
    const after = net.events.slice(mark);
    expect(after.filter((e) => e === 'hub<-1:sess-write')).toHaveLength(1);
    expect(after.filter((e) => e === '1<-sess-ack')).toHaveLength(1);
    for (const [i, id] of ids.entries()) expect(getAttr(r(b!).get(id)!, 'n')).toBe(i);
    // A save whose write is already on its way waits for that message's ack, not a new one.
    r(a!).write(ids[0]!, setAttr('n', 9, r(a!).version()));
    r(a!).flush();
    await r(a!).replicated();
    expect(getAttr(r(b!).get(ids[0]!)!, 'n')).toBe(9);
    expect(net.events.slice(mark).filter((e) => e === 'hub<-1:sess-write')).toHaveLength(2);
  });

  it('a new member gets every session in paced slices, loses no write made meanwhile, and says synced after the last slice', async () => {
    const [a] = await three();
    const ids = Array.from({ length: 300 }, newSessionId);
    for (const id of ids) r(a!).write(id, setAttr('blob', 'x'.repeat(2048), r(a!).version()));
    await net.settle();
    expect(net.hub.store.size).toBe(300);

    const fresh = Array.from({ length: 5 }, newSessionId);
    let syncedAfterFirstSlice: boolean | undefined;
    const d = net.add(4, {
      onDeliver: (m, w) => {
        // Writes land on the hub while the snapshot is under way: after the first slice, before the rest.
        if (m.shoal !== 'sess-sync' || w.inbox.filter((x) => x.shoal === 'sess-sync').length !== 1) return;
        syncedAfterFirstSlice = r(w).synced;
        for (const id of ids.slice(0, 5)) r(a!).write(id, setAttr('y', 'changed', r(a!).version()));
        for (const id of ids.slice(-5)) r(a!).write(id, setAttr('y', 'late', r(a!).version()));
        for (const id of fresh) r(a!).write(id, setAttr('blob', 'new', r(a!).version()));
        r(a!).write(ids[150]!, destroySession(r(a!).version()));
        r(a!).flush();
      },
    });
    expect(r(d).synced).toBe(false);
    await net.settle();

    const slices = d.inbox.filter((m): m is Extract<SessMsg, { shoal: 'sess-sync' }> => m.shoal === 'sess-sync');
    // ~600 KiB of data in slices of SYNC_SLICE_BYTES: at least three, only the last one done.
    expect(slices.length).toBeGreaterThanOrEqual(Math.ceil((300 * 2048) / SYNC_SLICE_BYTES));
    expect(slices.map((s) => s.done)).toEqual([...Array<boolean>(slices.length - 1).fill(false), true]);
    for (const id of ids) expect(slices.some((s) => s.sessions.some(([x]) => x === id))).toBe(true);
    expect(d.maxSyncInFlight).toBe(1); // paced: one slice on the channel at a time
    expect(syncedAfterFirstSlice).toBe(false);
    expect(r(d).synced).toBe(true);
    const lastSlice = net.events.lastIndexOf('4<-sess-sync');
    expect(net.events.filter((e) => e === 'hub<-4:sess-synced')).toHaveLength(1);
    expect(net.events.indexOf('hub<-4:sess-synced')).toBeGreaterThan(lastSlice);

    // Converged: D holds exactly the hub's copy, versions included.
    const hubStates = new Map(net.hub.store.entries());
    expect(hubStates.size).toBe(305);
    expect(r(d).store.size).toBe(hubStates.size);
    for (const [id, s] of hubStates) expect(wire(r(d).store.get(id))).toEqual(wire(s));
    expect(view(r(d).get(ids[0]!)!)).toEqual({ blob: 'x'.repeat(2048), y: 'changed' });
    expect(view(r(d).get(ids[299]!)!)).toEqual({ blob: 'x'.repeat(2048), y: 'late' });
    expect(r(d).get(ids[150]!)).toBeUndefined();
    for (const id of fresh) expect(getAttr(r(d).get(id)!, 'blob')).toBe('new');
  });
});

describe('malformed writes', () => {
  const good = (): Delta => setAttr('x', 1, formatHlc({ wall: Date.now(), logical: 0, node: 'w-x' }));
  it.each([
    ['a bad version string', () => [[newSessionId(), { attrs: { x: { version: 'not-a-version', value: 1 } } }]]],
    ['an id with spaces', () => [['has spaces', good()]]],
    ['changes that are not a list', () => ({ [newSessionId()]: good() })],
    ['one bad pair in a good batch', () => [[newSessionId(), good()], [newSessionId(), { destroyed: 42 }]]],
  ])('%s is dropped, not merged nor fanned out, and the writer still gets its ack', async (_what, changes) => {
    const [a, b] = await three();
    const writer = net.add(9, { silent: true, attach: false });
    const before = { ...net.hub.stats() };
    net.hub.write(writer.member, 7, Date.now(), changes() as never);
    await net.settle();
    expect(net.hub.stats()).toMatchObject({ dropped: before.dropped + 1, sessions: before.sessions });
    expect(writer.inbox).toEqual([{ shoal: 'sess-ack', seq: 7 }]);
    for (const w of [a!, b!]) expect(w.inbox.filter((m) => m.shoal === 'sess-delta')).toEqual([]);
  });

  it('a well-formed write from the same writer is merged and fanned out (the control case)', async () => {
    await three();
    const writer = net.add(9, { silent: true, attach: false });
    const id = newSessionId();
    net.hub.write(writer.member, 1, Date.now(), [[id, good()]]);
    await net.settle();
    expect(net.hub.stats().dropped).toBe(0);
    for (const w of net.workers.slice(0, 3)) expect(getAttr(r(w).get(id)!, 'x')).toBe(1);
  });
});

describe('probes', () => {
  it('returns every member\'s figures', async () => {
    const [a] = await three();
    for (let i = 0; i < 2; i++) r(a!).write(newSessionId(), setAttr('k', i, r(a!).version()));
    await r(a!).replicated();
    await net.settle();
    const stats = await net.hub.probe(5_000);
    expect([...stats.keys()].sort()).toEqual([1, 2, 3]);
    for (const s of stats.values()) expect(s.sessions).toBe(2);
    expect(stats.get(1)!.saveP50).not.toBeNull(); // A's own write was acked
    expect(stats.get(2)).toMatchObject({ samples: 1, lagP50: expect.any(Number) }); // B received one delta
  });

  it('resolves at once without members', async () => {
    net = new Net();
    expect((await net.hub.probe(60_000)).size).toBe(0);
  });

  it('times out on a member that never answers, with the others\' figures', async () => {
    await three();
    net.add(9, { silent: true });
    const t0 = performance.now();
    const stats = await net.hub.probe(50);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(45);
    expect([...stats.keys()].sort()).toEqual([1, 2, 3]);
  });

  it('resolves when the only member it still waits for detaches', async () => {
    await three();
    const silent = net.add(9, { silent: true });
    let resolved = false;
    const p = net.hub.probe(60_000).then((s) => { resolved = true; return s; });
    await net.settle();
    expect(resolved).toBe(false); // 1-3 answered, 9 has not
    net.hub.detach(silent.member);
    const stats = await Promise.race([p, new Promise<'hung'>((res) => setTimeout(() => res('hung'), 2_000).unref())]);
    expect(stats === 'hung' ? stats : [...stats.keys()].sort()).toEqual([1, 2, 3]);
  });
});

describe('clocks', () => {
  it('a remote version moves the receiver\'s clock past it, so its next write of the key wins', async () => {
    // B's node id sorts first, so in the same millisecond B would lose a tie were its clock not advanced.
    const [a, b] = await three([{ node: 'w-z' }, { node: 'w-a' }]);
    const id = newSessionId();
    // A version 1 min ahead (within the drift limit): B's wall clock alone would issue smaller ones.
    const ahead = formatHlc({ wall: Date.now() + 60_000, logical: 7, node: 'w-z' });
    r(a!).write(id, setAttr('x', 1, ahead));
    await r(a!).replicated();
    expect(r(b!).version() > ahead).toBe(true);
    r(b!).write(id, setAttr('x', 2, r(b!).version()));
    await r(b!).replicated();
    await net.settle();
    for (const w of net.workers) expect(getAttr(r(w).get(id)!, 'x')).toBe(2);
    expect(getAttr(net.hub.store.get(id)!, 'x')).toBe(2);
    // A member seeded by the snapshot moves its clock too.
    const d = net.add(4, { node: 'w-0' });
    await net.settle();
    expect(r(d).version() > ahead).toBe(true);
  });

  // The natural case: only catches a missing clock.receive when both writes share a millisecond
  // (then B's smaller node id would lose the tie); the test above is the deterministic one.
  it('a version issued after receiving a remote one is greater than it', async () => {
    const [a, b] = await three([{ node: 'w-z' }, { node: 'w-a' }]);
    const id = newSessionId();
    const written = r(a!).version();
    r(a!).write(id, setAttr('x', 1, written));
    await r(a!).replicated();
    expect(r(b!).version() > written).toBe(true);
  });
});

describe('acks', () => {
  it('replicated() rejects with SHOAL_ERR_SESSION_UNREPLICATED when the hub never answers', async () => {
    const sent: ToPrimary[] = [];
    const replica = new Replica({ send: (m) => sent.push(m), ackTimeoutMs: 50 });
    replica.write(newSessionId(), setAttr('x', 1, replica.version()));
    const t0 = performance.now();
    const err = await replica.replicated().then(() => undefined, (e: unknown) => e);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(45);
    expect(isShoalError(err) && err.code).toBe('SHOAL_ERR_SESSION_UNREPLICATED');
    expect(sent.map((m) => m.shoal)).toEqual(['sess-write']);
    replica.close();
  });

  it('a standalone replica (no send) is synced, and replicated() resolves without waiting', async () => {
    const replica = new Replica();
    expect(replica.synced).toBe(true);
    const id = newSessionId();
    replica.write(id, setAttr('x', 1, replica.version()));
    const first = await Promise.race([replica.replicated().then(() => 'resolved'), turn().then(() => 'pending')]);
    expect(first).toBe('resolved');
    expect(getAttr(replica.get(id)!, 'x')).toBe(1);
    replica.close();
  });
});

describe('read-through (sess-fetch)', () => {
  it('a replica that lost a session gets it back from the hub; an unknown id gets nothing', async () => {
    const net = new Net();
    const a = net.add(1);
    const id = newSessionId();
    a.replica!.write(id, setAttr('user', 'ann', a.replica!.version()));
    await net.settle();
    a.replica!.store.delete(id); // as an LRU eviction in this worker would
    const fetched = a.replica!.fetch(id);
    await net.settle();
    const got = await fetched;
    expect([view(got.state!), got.known]).toEqual([{ user: 'ann' }, true]);
    expect(getAttr(a.replica!.get(id)!, 'user')).toBe('ann');
    const none = a.replica!.fetch(newSessionId());
    await net.settle();
    expect(await none).toEqual({ state: undefined, known: true });
  });

  it('a session only in the shared store is loaded and handed to every worker', async () => {
    const net = new Net();
    const [a, b] = [net.add(1), net.add(2)];
    const id = newSessionId();
    const remote = setAttr('cart', ['apple'], formatHlc({ wall: Date.now(), logical: 0, node: 'other-host' }));
    const loads: string[] = [];
    net.hub.load = async (asked) => { loads.push(asked); return asked === id ? { attrs: remote.attrs!, touchedAt: Date.now(), expiresAt: Date.now() + 60_000 } : undefined; };
    const fetched = a.replica!.fetch(id);
    await net.settle();
    expect(view((await fetched).state!)).toEqual({ cart: ['apple'] });
    expect(loads).toEqual([id]);
    // B got it as it would get a change from another host: no fetch of its own needed.
    expect(getAttr(b.replica!.get(id)!, 'cart')).toEqual(['apple']);
  });

  it('a session read back from the shared store after this host dropped it gets this host\'s unwritten changes back', async () => {
    const net = new Net();
    const b = net.add(2);
    const id = newSessionId();
    const v = (wall: number): string => formatHlc({ wall, logical: 0, node: 'w' });
    // This host's change to `id`, queued for Redis, of a session the host no longer holds.
    const own = setAttr('new', 2, v(Date.now() + 1));
    net.hub.pending = (asked) => (asked === id ? own : undefined);
    const fromRedis = { attrs: setAttr('old', 1, v(Date.now())).attrs!, touchedAt: Date.now(), expiresAt: Date.now() + 60_000 };
    net.hub.applyRemote([[id, fromRedis]]);
    await net.settle();
    expect(view(net.hub.store.get(id)!)).toEqual({ old: 1, new: 2 });
    expect(view(b.replica!.get(id)!)).toEqual({ old: 1, new: 2 });
  });

  it('outside a cluster there is nothing to fetch from', async () => {
    expect(await new Replica().fetch(newSessionId())).toEqual({ state: undefined, known: true });
  });

  it('the shared store down: the answer says nobody could tell, with what the host has', async () => {
    const net = new Net();
    const a = net.add(1);
    const held = newSessionId();
    a.replica!.write(held, setAttr('user', 'ann', a.replica!.version()));
    await net.settle();
    let loads = 0;
    net.hub.load = async () => { loads++; throw new Error('redis is down'); };
    const unknown = a.replica!.fetch(newSessionId());
    // Held by the host, but the client saw a newer version elsewhere: the host's copy comes back, not known to be current.
    const older = a.replica!.fetch(held, formatHlc({ wall: Date.now() + 60_000, logical: 0, node: 'other-host' }));
    await net.settle();
    expect(await unknown).toEqual({ state: undefined, known: false });
    const o = await older;
    expect([view(o.state!), o.known]).toEqual([{ user: 'ann' }, false]);
    expect(loads).toBe(2);
  });

  it('no answer within fetchTimeoutMs: nobody could tell', async () => {
    const net = new Net();
    const a = net.add(1, { fetchTimeoutMs: 20 });
    net.hub.load = () => new Promise(() => {}); // never answers
    const id = newSessionId();
    expect(await a.replica!.fetch(id, formatHlc({ wall: Date.now(), logical: 0, node: 'x' }))).toEqual({ state: undefined, known: false });
  });
});
