/** The shutdown delay's phases: serving -> delaying -> stopping, skipped by a second stop, logged from -> to. */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { ShutdownDelay } from '../../runtime/primary/shutdown-delay.js';

const logger = (): { log: pino.Logger; lines: string[] } => {
  const lines: string[] = [];
  return { log: pino({ base: null }, { write: (s: string) => { lines.push(s); } }), lines };
};

describe('shutdown delay', () => {
  it('delays, counting down, then stops', async () => {
    const { log, lines } = logger();
    const d = new ShutdownDelay(60, log);
    expect(d.remainingMs()).toBeNull();
    const t0 = Date.now();
    const over = d.run('SIGTERM');
    expect(d.phase).toBe('delaying');
    expect(d.remainingMs()).toBeGreaterThan(0);
    await over;
    expect(Date.now() - t0).toBeGreaterThanOrEqual(55);
    expect(d.phase).toBe('stopping');
    expect(d.remainingMs()).toBeNull();
    expect(lines.map((l) => (JSON.parse(l) as { msg: string }).msg)).toEqual(['shutdown: serving -> delaying', 'shutdown: delaying -> stopping']);
  });

  it('a second stop skips the rest of the delay', async () => {
    const { log, lines } = logger();
    const d = new ShutdownDelay(60_000, log);
    const over = d.run('SIGTERM');
    expect(d.skip('SIGINT')).toBe(true);
    await over;
    expect(d.phase).toBe('stopping');
    expect(d.skip('again')).toBe(false);
    expect(lines.at(-1)).toContain('SIGINT: shutdown delay skipped');
  });

  it('no delay (0) or a forced stop goes straight to stopping', async () => {
    const a = new ShutdownDelay(0, logger().log);
    await a.run('shoal stop');
    expect(a.phase).toBe('stopping');
    const b = new ShutdownDelay(60_000, logger().log);
    await b.run('fatal', true);
    expect(b.phase).toBe('stopping');
  });
});
