/**
 * The dispatcher's bookkeeping, with stand-in workers and sockets (in
 * addition to test/integration/dispatch.test.ts, which uses real processes):
 * credit window, queue order, delivery by receipt or ack, refuse, and
 * re-dispatch when a write fails or a worker dies.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import pino from 'pino';
import { Dispatcher } from '../../runtime/primary/dispatcher.js';
import type { TcpHandle } from '../../runtime/primary/tcp-handle.js';
import type { Settle, WorkerProcess } from '../../runtime/primary/worker-process.js';
import { createScheduler, DEFAULT_HOLD_MS } from '../../runtime/scheduler/index.js';

interface Sent { worker: number; id: number; socket: FakeHandle; settle: Settle }
/** A raw connection handle as the listener gives them: the dispatcher only passes it on, closes it, or asks its peer. */
class FakeHandle {
  destroyed = false;
  constructor(readonly name: string, readonly remoteAddress = '127.0.0.1') {}
  close(): void { this.destroyed = true; }
  getpeername(out: Record<string, unknown>): number { out.address = this.remoteAddress; return 0; }
}

function setup(creditWindow = 2, balancer: 'round-robin' | 'ip-hash' | 'least-load' = 'round-robin') {
  const sent: Sent[] = [];
  const closed: string[] = [];
  const close = (h: TcpHandle) => { const f = h as unknown as FakeHandle; closed.push(f.name); f.destroyed = true; };
  const d = new Dispatcher(createScheduler(balancer, { slowStartMs: 0 }), { creditWindow, queueTimeoutMs: 60_000, close }, pino({ level: 'silent' }));
  const worker = (id: number): WorkerProcess => {
    const w = {
      id,
      load: { id, weight: 1, conns: 0, pending: 0, inflight: 0, elu: 0, readyAt: 0 },
      receipts: false,
      sendConn: (conn: number, handle: FakeHandle, settle: Settle) => { sent.push({ worker: id, id: conn, socket: handle, settle }); return true; },
    };
    return w as unknown as WorkerProcess;
  };
  const accept = (name: string, from?: string) => { const s = new FakeHandle(name, from); d.accept(s as unknown as TcpHandle); return s; };
  return { d, sent, worker, accept, closed };
}

describe('dispatcher', () => {
  afterEach(() => { vi.useRealTimers(); });

  it('least-load: with every worker busy a new connection is held, and goes to the first that is idle, or anyway at the hold\'s end', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const { d, sent, worker, accept } = setup(100, 'least-load');
    const [w1, w2] = [worker(1), worker(2)];
    d.addWorker(w1, false);
    d.addWorker(w2, false);
    w1.load.inflight = 1;
    w2.load.inflight = 1;
    accept('a');
    expect(sent).toHaveLength(0);
    expect(d.queued).toBe(1);
    // Nobody became idle: it goes at the hold's end all the same.
    vi.advanceTimersByTime(DEFAULT_HOLD_MS);
    expect(sent.map((x) => x.socket.name)).toEqual(['a']);
    const first = sent[0]!;
    d.ack(first.worker === 1 ? w1 : w2, first.id, 0);
    accept('b');
    expect(sent).toHaveLength(1);
    w2.load.inflight = 0;
    d.loadChanged(w2);
    expect(sent.map((x) => `${x.socket.name}@${x.worker}`).slice(1)).toEqual(['b@2']);
    expect(d.queued).toBe(0);
  });

  it('lets the scheduler read each connection\'s own peer address (ip-hash)', () => {
    const { d, sent, worker, accept } = setup(100, 'ip-hash');
    const workers = [1, 2, 3, 4].map(worker);
    for (const w of workers) d.addWorker(w, false);
    // What ip-hash itself picks for each address, with the same workers.
    const ref = createScheduler('ip-hash', { slowStartMs: 0 });
    for (const w of workers) ref.add({ ...w.load });
    const clients = Array.from({ length: 40 }, (_, i) => `10.0.${i}.7`);
    for (const ip of clients) {
      accept(ip, ip);
      expect(sent.at(-1)!.worker, ip).toBe(ref.pick({ remoteAddress: ip, now: Date.now() }, () => true)!.id);
    }
    expect(new Set(sent.map((x) => x.worker)).size).toBeGreaterThan(1);
  });

  it('queues while no worker is routable, then hands out in arrival order', () => {
    const { d, sent, worker, accept } = setup();
    accept('a'); accept('b');
    expect(d.queued).toBe(2);
    d.addWorker(worker(1), false);
    expect(sent.map((s) => s.socket.name)).toEqual(['a', 'b']);
    expect(d.queued).toBe(0);
  });

  it('never exceeds the credit window per worker; an ack frees credit and closes the primary copy', () => {
    const { d, sent, worker, accept } = setup(2);
    const w = worker(1);
    d.addWorker(w, false);
    const socks = ['a', 'b', 'c', 'd'].map((n) => accept(n));
    expect(sent).toHaveLength(2);
    expect(w.load.pending).toBe(2);
    expect(d.queued).toBe(2);
    d.ack(w, sent[0]!.id, 0);
    expect(socks[0]!.destroyed).toBe(true);
    expect(sent.map((s) => s.socket.name)).toEqual(['a', 'b', 'c']);
    expect(w.load).toMatchObject({ pending: 2, conns: 3 });
    d.ack(w, sent[1]!.id, 2);
    expect(w.load).toMatchObject({ pending: 2, conns: 2 });
  });

  it('a refused socket goes to the front of the queue and then to another worker', () => {
    const { d, sent, worker, accept } = setup(1);
    const w1 = worker(1);
    const w2 = worker(2);
    d.addWorker(w1, false);
    accept('a');
    accept('b');
    expect(sent.map((s) => `${s.socket.name}@${s.worker}`)).toEqual(['a@1']);
    d.refuse(w1, sent[0]!.id, 'closed'); // draining: it refuses what it still gets
    expect(w1.load).toMatchObject({ pending: 0, conns: 0 });
    d.addWorker(w2, false);
    expect(sent.map((s) => `${s.socket.name}@${s.worker}`)).toEqual(['a@1', 'a@2']);
    expect(d.stats.refused).toBe(1);
  });

  it('when a worker dies, everything it had not acknowledged is handed to others first, untouched', () => {
    const { d, sent, worker, accept } = setup(2);
    const w1 = worker(1);
    const w2 = worker(2);
    d.addWorker(w1, false);
    d.addWorker(w2, false);
    const socks = ['a', 'b', 'c', 'd', 'e'].map((n) => accept(n));
    expect(sent.map((s) => `${s.socket.name}@${s.worker}`)).toEqual(['a@1', 'b@2', 'c@1', 'd@2']);
    d.ack(w2, sent[1]!.id, 0); // b acknowledged by 2: e goes to 2
    expect(sent.at(-1)).toMatchObject({ worker: 2 });
    d.workerGone(w1);
    expect(socks[0]!.destroyed || socks[2]!.destroyed).toBe(false);
    expect(d.stats.redispatched).toBe(2);
    // 2 has no credit left (d and e pending): a and c wait at the head of the queue, in order.
    expect(sent.slice(5).map((s) => `${s.socket.name}@${s.worker}`)).toEqual([]);
    d.ack(w2, sent[3]!.id, 0);
    expect(sent.slice(5).map((s) => `${s.socket.name}@${s.worker}`)).toEqual(['a@2']);
    d.ack(w2, sent[4]!.id, 0);
    expect(sent.slice(5).map((s) => `${s.socket.name}@${s.worker}`)).toEqual(['a@2', 'c@2']);
  });

  it('a worker refusing at maxConnections is skipped until it reports a close, so nothing bounces', () => {
    const { d, sent, worker, accept } = setup(2);
    const w1 = worker(1);
    d.addWorker(w1, false);
    accept('a');
    d.refuse(w1, sent[0]!.id, 'full');
    expect(sent).toHaveLength(1); // not offered again at once
    expect(d.queued).toBe(1);
    d.closed(w1, 1);
    expect(sent.map((s) => s.socket.name)).toEqual(['a', 'a']);
  });

  it('a worker refusing because it has no server any more is taken out of rotation', () => {
    const { d, sent, worker, accept } = setup(2);
    const w1 = worker(1);
    d.addWorker(w1, false);
    accept('a');
    d.refuse(w1, sent[0]!.id, 'closed');
    expect(d.routable).toBe(0);
    expect(d.queued).toBe(1);
  });

  it('a receipt delivers the connection: the primary closes its copy, a later ack of it changes nothing', () => {
    const { d, sent, worker, accept } = setup(1);
    const w = worker(1);
    d.addWorker(w, false);
    const [a] = [accept('a'), accept('b')];
    expect(sent).toHaveLength(1);
    sent[0]!.settle(w, sent[0]!.id, true);
    expect(a.destroyed).toBe(true);
    expect(d.unacknowledged).toBe(1);
    expect(sent.map((s) => s.socket.name)).toEqual(['a', 'b']);
    expect(w.load).toMatchObject({ pending: 1, conns: 2 });
    d.ack(w, sent[0]!.id, 0);
    expect(w.load).toMatchObject({ pending: 1, conns: 2 });
    expect(sent).toHaveLength(2);
  });

  it('refused after its receipt, the handle the worker sends back is queued and goes to another worker', () => {
    const { d, sent, worker, accept } = setup(1);
    const [w1, w2] = [worker(1), worker(2)];
    d.addWorker(w1, false);
    const a = accept('a');
    sent[0]!.settle(w1, sent[0]!.id, true);
    expect(a.destroyed).toBe(true);
    const back = new FakeHandle('a (sent back)');
    d.refuse(w1, sent[0]!.id, 'closed', back as unknown as TcpHandle);
    expect(d.routable).toBe(0);
    expect(w1.load).toMatchObject({ pending: 0, conns: 0 });
    d.addWorker(w2, false);
    expect(sent.map((s) => `${s.socket.name}@${s.worker}`)).toEqual(['a@1', 'a (sent back)@2']);
    expect(back.destroyed).toBe(false);
    expect(d.stats.refused).toBe(1);
  });

  it('refused before its receipt, the primary\'s own copy goes on and the one sent back is closed', () => {
    const { d, sent, worker, accept } = setup(1);
    const [w1, w2] = [worker(1), worker(2)];
    d.addWorker(w1, false);
    d.addWorker(w2, false);
    w2.load.conns = 5;
    const a = accept('a');
    expect(sent[0]!.worker).toBe(1);
    const back = new FakeHandle('a (sent back)');
    d.refuse(w1, sent[0]!.id, 'full', back as unknown as TcpHandle);
    expect(back.destroyed).toBe(true);
    expect(a.destroyed).toBe(false);
    expect(sent.map((s) => `${s.socket.name}@${s.worker}`)).toEqual(['a@1', 'a@2']);
    // Its receipt, late, finds nothing of worker 1's pending.
    sent[0]!.settle(w1, sent[0]!.id, true);
    expect(a.destroyed).toBe(false);
    expect(w1.load.pending).toBe(0);
  });

  it('a handoff whose write failed goes back first in line to another worker; the failed one is left out', () => {
    const { d, sent, worker, accept } = setup(1);
    const [w1, w2] = [worker(1), worker(2)];
    d.addWorker(w1, false);
    const a = accept('a');
    accept('b');
    sent[0]!.settle(w1, sent[0]!.id, false);
    expect(a.destroyed).toBe(false);
    expect(d.routable).toBe(0);
    expect(w1.load).toMatchObject({ pending: 0, conns: 0 });
    d.addWorker(w2, false);
    expect(sent.map((s) => `${s.socket.name}@${s.worker}`)).toEqual(['a@1', 'a@2']);
    expect(d.queued).toBe(1);
    expect(d.stats.refused).toBe(0);
  });

  it('a refusal that comes in after its worker exited does not put the connection in the queue twice', () => {
    const { d, sent, worker, accept } = setup(1);
    const [w1, w2] = [worker(1), worker(2)];
    d.addWorker(w1, false);
    accept('a');
    d.workerGone(w1);
    expect(d.queued).toBe(1);
    const back = new FakeHandle('a (sent back)');
    d.refuse(w1, sent[0]!.id, 'closed', back as unknown as TcpHandle);
    expect(back.destroyed).toBe(true);
    expect(d.queued).toBe(1);
    d.addWorker(w2, false);
    expect(sent.map((s) => `${s.socket.name}@${s.worker}`)).toEqual(['a@1', 'a@2']);
    expect(d.queued).toBe(0);
  });

  it('abandonQueue closes what no worker will take', () => {
    const { d, accept, closed } = setup();
    accept('a');
    d.abandonQueue();
    expect(closed).toEqual(['a']);
    expect(d.queued).toBe(0);
  });
});
