/**
 * A worker's load report survives a failing system call on its periodic
 * path (issue 13 point 6): reading resident memory opens /proc/self/stat,
 * which throws EMFILE when the worker is out of descriptors. And how often
 * it goes out: request news alone waits longer unless the balancer reads it,
 * and the batch window each balancer's workers are started with.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { performance } from 'node:perf_hooks';
import { EventEmitter } from 'node:events';
import { Intake, REQUEST_REPORT_MS, RSS_EVERY_MS } from '../../runtime/worker/intake.js';
import type { WorkerState } from '../../runtime/worker/state.js';
import { FIGURES_REPORT_MS, forkSpec } from '../../runtime/primary/primary.js';
import { DEFAULTS, resolveOptions, type ShoalOptions } from '../../runtime/options.js';
import { ENV } from '../../runtime/ipc/messages.js';
import type { Outputs } from '../../runtime/logs/outputs.js';

afterEach(() => { vi.restoreAllMocks(); });

describe('load report', () => {
  it('keeps the last resident memory figure when reading it fails with EMFILE, and goes on reporting', () => {
    let now = 1_000;
    vi.spyOn(performance, 'now').mockImplementation(() => now);
    const sent: { rss: number }[] = [];
    const state = { servers: [], draining: false, send: (m: { rss: number }) => { sent.push(m); } } as unknown as WorkerState;
    const intake = new Intake(state, 10);
    const rss = vi.spyOn(process.memoryUsage, 'rss').mockReturnValue(123_456);
    intake.report(0);
    expect(sent.at(-1)?.rss).toBe(123_456);
    rss.mockImplementation(() => { throw Object.assign(new Error('EMFILE: too many open files, uv_resident_set_memory'), { code: 'EMFILE' }); });
    now += RSS_EVERY_MS;
    expect(() => intake.report(0)).not.toThrow();
    expect(sent).toHaveLength(2);
    expect(sent.at(-1)?.rss).toBe(123_456);
    expect(rss).toHaveBeenCalledTimes(2);
  });
});

/** A request through an adopted server's 'request' event, answered in full at once. */
function serve(server: EventEmitter): void {
  const res = Object.assign(new EventEmitter(), { writableFinished: true, statusCode: 200, shouldKeepAlive: true, headersSent: false });
  server.emit('request', new EventEmitter(), res);
  res.emit('close');
}

describe('report cadence', () => {
  afterEach(() => { vi.useRealTimers(); });

  const setup = (edges: boolean, windowMs?: number): { server: EventEmitter; sent: { done: number }[]; intake: Intake } => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'clearImmediate', 'performance'] });
    const sent: { done: number }[] = [];
    const state = { servers: [], draining: false, send: (m: { done: number }) => { sent.push(m); } } as unknown as WorkerState;
    const intake = new Intake(state, 10, edges, windowMs);
    const server = new EventEmitter();
    intake.track(server as unknown as import('node:net').Server);
    // The first request after a quiet spell is reported before its handler runs (a handler that
    // blocks shows in flight); the cadence is about the requests that follow it, as under load.
    serve(server);
    vi.advanceTimersByTime(REQUEST_REPORT_MS);
    expect(sent.length).toBeGreaterThan(0);
    sent.length = 0;
    return { server, sent, intake };
  };

  it('batches requests for REQUEST_REPORT_MS where the balancer does not read them (least-conn)', () => {
    const { server, sent } = setup(false);
    for (let i = 0; i < 5; i++) { serve(server); vi.advanceTimersByTime(10); }
    // 50 ms in: the connection window (10 ms) has passed five times, yet nothing went out.
    expect(sent).toHaveLength(0);
    vi.advanceTimersByTime(REQUEST_REPORT_MS - 50);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.done).toBe(5);
  });

  it('reports requests without the REQUEST_REPORT_MS wait where the balancer reads them (least-load)', () => {
    const { server, sent } = setup(true);
    serve(server);
    serve(server);
    vi.advanceTimersByTime(10);
    expect(sent.reduce((n, m) => n + m.done, 0)).toBe(2);
  });

  it('a longer batch window (a balancer that reads no report) also holds back the report of a request after a short pause', () => {
    for (const [windowMs, atOnce] of [[undefined, 1], [25, 0]] as const) {
      // performance.now under the clock's control: the intake reads it for its windows.
      let now = 1_000;
      vi.spyOn(performance, 'now').mockImplementation(() => now);
      const { server, sent, intake } = setup(false, windowMs);
      const wait = (ms: number): void => { now += ms; vi.advanceTimersByTime(ms); };
      const pauseThenServe = (): number => {
        wait(REQUEST_REPORT_MS);
        serve(server);
        wait(REQUEST_REPORT_MS);
        // Idle for 15 ms: longer than the 10 ms interval, within a 25 ms window.
        serve(server);
        wait(15);
        sent.length = 0;
        serve(server);
        return sent.length;
      };
      expect(pauseThenServe(), `window ${windowMs ?? 10} ms`).toBe(atOnce);
      // Back from kernel accept, the worker batches over its own window again.
      intake.kernel = true;
      intake.kernel = false;
      expect(pauseThenServe(), `window ${windowMs ?? 10} ms, after kernel accept`).toBe(atOnce);
      vi.useRealTimers();
      vi.restoreAllMocks();
    }
  });

  it('the periodic tick sends nothing while a report is on its way', () => {
    const { server, sent, intake } = setup(false);
    serve(server);
    intake.tick(2);
    expect(sent).toHaveLength(0);
    vi.advanceTimersByTime(REQUEST_REPORT_MS);
    expect(sent).toHaveLength(1);
  });
});

describe('report window per balancer (forkSpec)', () => {
  it('only least-load workers report on the interval; least-conn and the per-connection balancers batch over FIGURES_REPORT_MS', () => {
    const window = (balancer: ShoalOptions['balancer']): number => {
      const opts = resolveOptions({ entry: '/app.js', workers: 1, balancer, name: 'report-window' });
      return Number(forkSpec(opts, undefined, {} as Outputs).env[ENV.reportWindowMs]);
    };
    expect(window('least-load')).toBe(DEFAULTS.reportIntervalMs);
    for (const b of ['least-conn', 'round-robin', 'weighted-round-robin', 'ip-hash'] as const) expect(window(b), b).toBe(FIGURES_REPORT_MS);
    expect(FIGURES_REPORT_MS).toBeGreaterThan(DEFAULTS.reportIntervalMs);
  });
});
