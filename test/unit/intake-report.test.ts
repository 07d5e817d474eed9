/**
 * A worker's load report survives a failing system call on its periodic
 * path (issue 13 point 6): reading resident memory opens /proc/self/stat,
 * which throws EMFILE when the worker is out of descriptors.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { performance } from 'node:perf_hooks';
import { Intake, RSS_EVERY_MS } from '../../runtime/worker/intake.js';
import type { WorkerState } from '../../runtime/worker/state.js';

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
