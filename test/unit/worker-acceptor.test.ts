/**
 * The worker's side of kernel accept (runtime/worker/acceptor.ts) with a
 * stand-in listening handle that records what libuv would be told, and a
 * stand-in intake whose counts the test moves: when it pauses and resumes,
 * that a pause is reported, and the hold that opens a window on a stale
 * floor. The real mechanism runs in test/integration/kernel-accept.test.ts.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AcceptParams } from '../../runtime/ipc/messages.js';
import { Acceptor, PAUSE_REPORT_MS } from '../../runtime/worker/acceptor.js';
import type { Intake } from '../../runtime/worker/intake.js';
import type { WorkerState } from '../../runtime/worker/state.js';

class FakeHandle {
  calls: string[] = [];
  onconnection: ((status: number, client?: unknown) => void) | null = null;
  listen(): number { this.calls.push('listen'); return 0; }
  readStart(): number { this.calls.push('readStart'); return 0; }
  readStop(): number { this.calls.push('readStop'); return 0; }
  close(): void { this.calls.push('close'); }
}

function setup(params: Partial<AcceptParams> = {}) {
  const intake = {
    connections: 0, inflight: 0, elu: 0, reports: 0, adopted: [] as unknown[],
    onLoad: () => {}, onRequest: undefined as (() => void) | undefined, paused: () => false, kernel: false,
    reportSoon() { this.reports++; },
    acceptFromKernel(h: unknown) { this.adopted.push(h); this.connections++; },
  };
  const server = { _connections: 0, maxConnections: undefined as number | undefined };
  Object.defineProperty(intake, 'full', { get: () => server.maxConnections != null && server._connections >= server.maxConnections });
  const state = { servers: [server], draining: false } as unknown as WorkerState;
  const acceptor = new Acceptor(intake as unknown as Intake, state);
  const h = new FakeHandle();
  const p: AcceptParams = { balancer: 'least-conn', weight: 1, slack: 1, slowStartMs: 0, rampMs: 0, holdMs: 20, ...params };
  return { intake, server, state, acceptor, h, start: (floor: number) => acceptor.start(h, p, floor) };
}

beforeEach(() => { vi.useFakeTimers(); });
afterEach(() => { vi.useRealTimers(); });

describe('worker acceptor', () => {
  it('listens and accepts while within the slack; an accept that puts it over pauses it and is reported', () => {
    const { intake, acceptor, h, start } = setup();
    expect(start(1)).toBe(true);
    expect(h.calls).toEqual(['listen']);
    expect(acceptor.paused).toBe(false);
    h.onconnection!(0, 'c1'); // 1 connection: key 2 <= 1 + 1
    expect(acceptor.paused).toBe(false);
    h.onconnection!(0, 'c2'); // 2 connections: key 3 > 2: out
    expect(intake.adopted).toEqual(['c1', 'c2']);
    expect(acceptor.paused).toBe(true);
    // readStop needs libuv's reading flag: set it with readStart first.
    expect(h.calls).toEqual(['listen', 'readStart', 'readStop']);
    expect(intake.paused()).toBe(true);
    // Reported once it has lasted PAUSE_REPORT_MS (the primary may have to raise the floor)...
    expect(intake.reports).toBe(0);
    vi.advanceTimersByTime(PAUSE_REPORT_MS);
    expect(intake.reports).toBe(1);
  });

  it('a pause that ends sooner (a close) is not reported', () => {
    const { intake, acceptor, start } = setup();
    start(1);
    intake.connections = 2;
    acceptor.evaluate();
    expect(acceptor.paused).toBe(true);
    intake.connections = 1;
    intake.onLoad();
    vi.advanceTimersByTime(PAUSE_REPORT_MS * 2);
    expect(intake.reports).toBe(0);
  });

  it('a close that brings it back under, or a higher floor, resumes it', () => {
    const { intake, acceptor, h, start } = setup();
    start(1);
    intake.connections = 2;
    acceptor.evaluate();
    expect(acceptor.paused).toBe(true);
    intake.connections = 1;
    intake.onLoad(); // a close
    expect(acceptor.paused).toBe(false);
    expect(h.calls.at(-1)).toBe('readStart');
    intake.connections = 5;
    intake.onLoad();
    expect(acceptor.paused).toBe(true);
    acceptor.setFloor(5);
    expect(acceptor.paused).toBe(false);
  });

  it('paused on a floor that does not move for holdMs, it opens for one holdMs window, then decides again', () => {
    const { intake, acceptor, start } = setup({ holdMs: 20 });
    start(1);
    intake.connections = 4;
    acceptor.evaluate();
    expect(acceptor.paused).toBe(true);
    vi.advanceTimersByTime(19);
    expect(acceptor.paused).toBe(true);
    vi.advanceTimersByTime(1);
    expect(acceptor.paused).toBe(false); // the window
    intake.connections = 6;
    acceptor.evaluate(); // accepts in the window do not close it
    expect(acceptor.paused).toBe(false);
    vi.advanceTimersByTime(20);
    expect(acceptor.paused).toBe(true); // the window closed: over its share, out again
    vi.advanceTimersByTime(20);
    expect(acceptor.paused).toBe(false); // and the next window
  });

  it('a new floor restarts the hold and closes an open window', () => {
    const { intake, acceptor, start } = setup({ holdMs: 20 });
    start(1);
    intake.connections = 4;
    acceptor.evaluate();
    vi.advanceTimersByTime(15);
    acceptor.setFloor(2); // still over (key 5 > 3), but the floor moved: wait afresh
    vi.advanceTimersByTime(15);
    expect(acceptor.paused).toBe(true);
    vi.advanceTimersByTime(5);
    expect(acceptor.paused).toBe(false);
    acceptor.setFloor(2);
    expect(acceptor.paused).toBe(true);
  });

  it('an app server at its maxConnections sits out, window or not', () => {
    const { server, acceptor, start } = setup({ holdMs: 20 });
    server.maxConnections = 3;
    server._connections = 3;
    start(100);
    expect(acceptor.paused).toBe(true);
    vi.advanceTimersByTime(100);
    expect(acceptor.paused).toBe(true);
    server._connections = 2;
    acceptor.evaluate();
    expect(acceptor.paused).toBe(false);
  });

  it('least-load looks at requests too, once per turn of the loop; least-conn does not pay for it', async () => {
    vi.useRealTimers();
    const ll = setup({ balancer: 'least-load', slack: 0.5 });
    ll.start(1);
    expect(ll.intake.onRequest).toBeTypeOf('function');
    const evaluate = vi.spyOn(ll.acceptor, 'evaluate');
    // A batch served in one turn: started and ended before the turn is over, nothing to decide on.
    ll.intake.inflight = 1; ll.intake.onRequest!();
    ll.intake.inflight = 0; ll.intake.onRequest!();
    expect(ll.acceptor.paused).toBe(false);
    await new Promise((r) => setImmediate(r));
    expect(evaluate).toHaveBeenCalledTimes(1);
    expect(ll.acceptor.paused).toBe(false);
    // A request still in flight at the end of the turn (one that awaits): it sits out.
    ll.intake.inflight = 1; ll.intake.onRequest!();
    await new Promise((r) => setImmediate(r));
    expect(ll.acceptor.paused).toBe(true);
    ll.intake.inflight = 0; ll.intake.onRequest!();
    await new Promise((r) => setImmediate(r));
    expect(ll.acceptor.paused).toBe(false);
    const lc = setup();
    lc.start(1);
    expect(lc.intake.onRequest).toBeUndefined();
  });

  it('stop closes the descriptor; a draining worker does not start', () => {
    const { acceptor, h, state, start } = setup();
    start(1);
    acceptor.stop();
    expect(h.calls.at(-1)).toBe('close');
    expect(acceptor.active).toBe(false);
    (state as { draining: boolean }).draining = true;
    const h2 = new FakeHandle();
    expect(acceptor.start(h2, { balancer: 'least-conn', weight: 1, slack: 1, slowStartMs: 0, rampMs: 0, holdMs: 20 }, 1)).toBe(false);
    expect(h2.calls).toEqual(['close']);
  });
});
