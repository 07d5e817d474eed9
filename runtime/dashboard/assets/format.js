// Numbers for people: 12.3k req/s, 48 MiB, 3m 12s, 1.2 ms. Pure functions, unit-tested
// (test/unit/dashboard-format.test.ts); the page uses them for every figure it shows.

/** A count or a rate with k/M/G: 950, 12.3k, 123k, 4.5M: a decimal below 100, none above. */
export function count(n) {
  if (n === null || n === undefined || !Number.isFinite(n)) return '–';
  const a = Math.abs(n);
  if (a < 1000) return a < 10 && !Number.isInteger(n) ? n.toFixed(1).replace(/\.0$/, '') : String(Math.round(n));
  for (const [d, unit] of [[1e9, 'G'], [1e6, 'M'], [1e3, 'k']]) {
    if (a >= d) {
      const v = n / d;
      return `${Math.abs(v) < 100 ? v.toFixed(1).replace(/\.0$/, '') : Math.round(v)}${unit}`;
    }
  }
  return String(n);
}

/** Bytes in binary units: 512 B, 48 MiB, 1.5 GiB. */
export function bytes(n) {
  if (n === null || n === undefined || !Number.isFinite(n)) return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return `${i === 0 || Math.abs(v) >= 10 ? Math.round(v) : v.toFixed(1).replace(/\.0$/, '')} ${units[i]}`;
}

/** A duration from ms, its two largest units: 850 ms, 42s, 3m 12s, 5h 3m, 2d 4h. */
export function duration(ms) {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = Math.floor(ms / 1000);
  const parts = [[Math.floor(s / 86400), 'd'], [Math.floor(s / 3600) % 24, 'h'], [Math.floor(s / 60) % 60, 'm'], [s % 60, 's']];
  const first = parts.findIndex(([v]) => v > 0);
  return parts.slice(first, first + 2).filter(([v], i) => i === 0 || v > 0).map(([v, u]) => `${v}${u}`).join(' ');
}

/** A latency from ms: 0.42 ms, 1.2 ms, 48 ms, 1.5 s. */
export function latency(ms) {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '–';
  if (ms >= 1000) return `${(ms / 1000).toFixed(ms >= 10000 ? 0 : 1).replace(/\.0$/, '')} s`;
  if (ms >= 10) return `${Math.round(ms)} ms`;
  if (ms === 0) return '0 ms';
  if (ms >= 1) return `${ms.toFixed(1).replace(/\.0$/, '')} ms`;
  return `${ms.toFixed(2).replace(/0$/, '')} ms`;
}

/** A share 0..1 as a percentage: 37%, 0.5%. */
export function percent(x) {
  if (x === null || x === undefined || !Number.isFinite(x)) return '–';
  const p = x * 100;
  return `${p > 0 && p < 1 ? p.toFixed(1) : Math.round(p)}%`;
}

/** A clock time for the chart axis: 14:05:30. */
export function clock(t) {
  const d = new Date(t);
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((v) => String(v).padStart(2, '0')).join(':');
}
