/**
 * The primary's kernel-accept controller (runtime/primary/kernel-accept.ts)
 * with stand-in workers that record what they are sent, a real listener on
 * 127.0.0.1 and real handles: the fallback when the self-test fails, the
 * accept and floor messages, and the stop sequence's wait for every
 * descriptor. test/integration/kernel-accept.test.ts runs it for real.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { EventEmitter } from 'node:events';
import pino from 'pino';
import { Dispatcher } from '../../runtime/primary/dispatcher.js';
import { KernelAccept } from '../../runtime/primary/kernel-accept.js';
import { Listener } from '../../runtime/primary/listener.js';
import { bindHandle, type TcpHandle } from '../../runtime/primary/tcp-handle.js';
import type { WorkerProcess } from '../../runtime/primary/worker-process.js';
import { createScheduler } from '../../runtime/scheduler/index.js';

interface Sent { msg: { shoal: string; [k: string]: unknown }; handle: unknown }

function fakeWorker(id: number) {
  const sent: Sent[] = [];
  const child = Object.assign(new EventEmitter(), { killed: false, kill(this: { killed: boolean }) { this.killed = true; return true; } });
  const w = {
    id, child, sent,
    load: { id, weight: 1, conns: 0, pending: 0, inflight: 0, elu: 0, readyAt: -Infinity },
    send: (msg: Sent['msg'], handle?: unknown) => { sent.push({ msg, handle }); return true; },
  };
  return w as typeof w & WorkerProcess;
}

const lines: Record<string, unknown>[] = [];
const log = pino({ level: 'info' }, { write: (s: string) => { lines.push(JSON.parse(s) as Record<string, unknown>); } });
const open: { close(): void }[] = [];
afterEach(() => { vi.useRealTimers(); for (const o of open.splice(0)) o.close(); lines.length = 0; });

async function setup(probe: (h: TcpHandle) => Promise<string | undefined>) {
  const listener = await Listener.open(0, '127.0.0.1');
  open.push(listener);
  const dispatcher = new Dispatcher(createScheduler('least-conn', { slowStartMs: 0 }), { creditWindow: 2, queueTimeoutMs: 60_000 }, log);
  const kernel = new KernelAccept({ balancer: 'least-conn', slack: 1, holdMs: 20, slowStartMs: 0, unacceptTimeoutMs: 200, floorEveryMs: 10, probe }, dispatcher, log);
  kernel.serve(listener);
  /** The first worker forked echoes both handles back (as the shim does), with stand-ins. */
  const echo = async (w: ReturnType<typeof fakeWorker>): Promise<void> => {
    kernel.spawned(w);
    expect(w.sent.map((s) => s.msg)).toEqual([{ shoal: 'echo', tag: 'probe' }, { shoal: 'echo', tag: 'listen' }]);
    const copy = bindHandle('127.0.0.1', 0, 4);
    kernel.echoed(w, 'probe', bindHandle('127.0.0.1', 0, 4));
    kernel.echoed(w, 'listen', copy);
    await new Promise((r) => setImmediate(r));
    w.sent.length = 0;
  };
  return { listener, dispatcher, kernel, echo };
}

const turn = () => new Promise((r) => setImmediate(r));

describe('kernel accept controller', () => {
  it('a failed self-test falls back to the handoff, says why, and never sends accept', async () => {
    const { kernel, dispatcher, echo, listener } = await setup(async () => 'a paused acceptor still accepted a connection');
    const w = fakeWorker(1);
    await echo(w);
    expect(kernel.mode).toBe('handoff');
    expect(kernel.fallback).toBe('a paused acceptor still accepted a connection');
    expect(lines.find((l) => l.accept === 'handoff')?.msg).toMatch(/kernel accept is not available here \(a paused acceptor still accepted a connection\); the primary accepts every connection and hands it over/);
    dispatcher.addWorker(w, false);
    expect(w.sent.filter((s) => s.msg.shoal === 'accept')).toEqual([]);
    expect(listener.accepting).toBe(true);
  });

  it('a passed self-test: each routable worker is sent accept with the port and the floor; floors follow loads, once per turn and only on change', async () => {
    const { kernel, dispatcher, echo, listener } = await setup(async () => undefined);
    const w1 = fakeWorker(1);
    const w2 = fakeWorker(2);
    await echo(w1);
    expect(kernel.mode).toBe('kernel');
    dispatcher.addWorker(w1, false);
    dispatcher.addWorker(w2, false);
    const accept = w2.sent.find((s) => s.msg.shoal === 'accept')!;
    expect(accept.msg).toMatchObject({ params: { balancer: 'least-conn', slack: 1, rampMs: 0 }, floor: 1 });
    expect(accept.handle).toBe(listener.handle);
    for (const w of [w1, w2]) w.sent.length = 0;
    // The clock stands still from here unless the test moves it: "within floorEveryMs" must not
    // depend on how fast this machine runs the next lines (setImmediate stays real: turns pass).
    vi.useFakeTimers({ toFake: ['Date', 'setTimeout', 'clearTimeout'] });
    // Three reports in one turn, one of which moves the floor (the least loaded key goes 1 -> 3).
    w1.load.conns = 2; dispatcher.loadChanged(w1);
    w2.load.conns = 3; dispatcher.loadChanged(w2);
    w2.load.conns = 2; dispatcher.loadChanged(w2);
    expect(w1.sent).toEqual([]);
    await turn();
    expect(w1.sent.map((s) => s.msg)).toEqual([{ shoal: 'floor', floor: 3 }]);
    expect(w2.sent.map((s) => s.msg)).toEqual([{ shoal: 'floor', floor: 3 }]);
    // A report that leaves the floor where it is sends nothing.
    w2.load.conns = 5; dispatcher.loadChanged(w2);
    await turn();
    expect(w1.sent).toHaveLength(1);
    // A change within floorEveryMs of the last broadcast waits for the end of that window...
    w1.load.conns = 4; dispatcher.loadChanged(w1);
    await turn();
    expect(w1.sent).toHaveLength(1);
    vi.advanceTimersByTime(9);
    expect(w1.sent).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(w1.sent.at(-1)?.msg).toEqual({ shoal: 'floor', floor: 5 });
    // ...but a worker that reports itself paused gets a new floor at once (all paused: nobody accepts).
    w1.load.conns = 7; w2.load.conns = 7;
    kernel.reported(w2, true, 0);
    dispatcher.loadChanged(w2);
    expect(w2.sent.at(-1)?.msg).toEqual({ shoal: 'floor', floor: 8 });
    expect(w1.sent.at(-1)?.msg).toEqual({ shoal: 'floor', floor: 5 });
  });

  it('a report that raises the floor sends it at once to every paused worker, not only the reporter; one still accepting waits for the broadcast', async () => {
    const { dispatcher, echo, kernel } = await setup(async () => undefined);
    const [w1, w2, w3] = [fakeWorker(1), fakeWorker(2), fakeWorker(3)];
    await echo(w1);
    for (const w of [w1, w2, w3]) dispatcher.addWorker(w, false);
    await turn();
    for (const w of [w1, w2, w3]) w.sent.length = 0;
    vi.useFakeTimers({ toFake: ['Date', 'setTimeout', 'clearTimeout'] });
    // A burst: w1 and w2 took two connections each and paused; w3 took two and still accepts
    // (its report of them is the last to come). The floor cannot move before it does.
    for (const w of [w1, w2]) { w.load.conns = 2; kernel.reported(w, true, 2); dispatcher.loadChanged(w); }
    expect(w1.sent).toEqual([]);
    expect(w2.sent).toEqual([]);
    w3.load.conns = 2; kernel.reported(w3, false, 2); dispatcher.loadChanged(w3);
    // Synchronously, no timer moved: both paused workers have the new floor.
    expect(w1.sent.map((s) => s.msg)).toEqual([{ shoal: 'floor', floor: 3 }]);
    expect(w2.sent.map((s) => s.msg)).toEqual([{ shoal: 'floor', floor: 3 }]);
    expect(w3.sent).toEqual([]);
    await turn();
    vi.advanceTimersByTime(10);
    expect(w3.sent.map((s) => s.msg)).toEqual([{ shoal: 'floor', floor: 3 }]);
  });

  it('a worker leaving rotation is told to unaccept; stop waits for every descriptor and kills a worker that keeps one', async () => {
    const { kernel, dispatcher, echo } = await setup(async () => undefined);
    const w1 = fakeWorker(1);
    const w2 = fakeWorker(2);
    await echo(w1);
    dispatcher.addWorker(w1, false);
    dispatcher.addWorker(w2, false);
    dispatcher.removeWorker(w1);
    expect(w1.sent.at(-1)?.msg).toEqual({ shoal: 'unaccept' });
    kernel.unaccepted(w1);
    const stopping = kernel.stopAccepting();
    expect(w2.sent.at(-1)?.msg).toEqual({ shoal: 'unaccept' });
    let done = false;
    void stopping.then(() => { done = true; });
    await turn();
    expect(done).toBe(false); // w2 still holds its descriptor
    // w2 never answers (blocked): past unacceptTimeoutMs it is killed, and stop goes on once it is gone.
    await new Promise((r) => setTimeout(r, 250));
    expect(w2.child.killed).toBe(true);
    expect(done).toBe(false);
    kernel.exited(w2);
    await stopping;
    expect(w1.child.killed).toBe(false);
  });
});
