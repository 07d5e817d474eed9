// The page's number formatting (runtime/dashboard/assets/format.js): figures for people.
import { describe, expect, it } from 'vitest';
import { bytes, clock, count, duration, latency, percent } from '../../../runtime/dashboard/assets/format.js';

describe('dashboard number formatting', () => {
  it('counts and rates with k/M/G', () => {
    expect([0, 7, 2.5, 950, 999, 1000, 12_345, 123_456, 4_500_000, 2e9].map(count))
      .toEqual(['0', '7', '2.5', '950', '999', '1k', '12.3k', '123k', '4.5M', '2G']);
  });
  it('bytes in binary units', () => {
    expect([0, 512, 1024, 1536, 48 * 1024 * 1024, 1.5 * 1024 ** 3].map(bytes)).toEqual(['0 B', '512 B', '1 KiB', '1.5 KiB', '48 MiB', '1.5 GiB']);
  });
  it('durations in their two largest units', () => {
    expect([850, 42_000, 192_000, 3_600_000, 5 * 3_600_000 + 3 * 60_000 + 7_000, 2 * 86_400_000 + 4 * 3_600_000].map(duration))
      .toEqual(['850 ms', '42s', '3m 12s', '1h', '5h 3m', '2d 4h']);
  });
  it('latencies', () => {
    expect([0, 0.42, 0.25, 1.2, 1, 48.4, 1500, 12_000].map(latency)).toEqual(['0 ms', '0.42 ms', '0.25 ms', '1.2 ms', '1 ms', '48 ms', '1.5 s', '12 s']);
  });
  it('shares and clock times', () => {
    expect([0, 0.005, 0.37, 1].map(percent)).toEqual(['0%', '0.5%', '37%', '100%']);
    expect(clock(new Date(2026, 0, 1, 9, 5, 3).getTime())).toBe('09:05:03');
  });
  it('no figure is a dash, never NaN', () => {
    for (const fmt of [count, bytes, duration, latency, percent]) {
      expect([fmt(null), fmt(undefined), fmt(Number.NaN)]).toEqual(['–', '–', '–']);
    }
  });
});
