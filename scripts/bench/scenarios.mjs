// Scenario definitions: what load each one sends (full and --quick sizes) and
// which figures it reports. `metrics` flattens a load-generator result into
// the numbers the report takes medians of; `main` names the ones in its table,
// `key` the one whose min–max range across runs is shown, `derive` adds figures
// computed from the medians. `primaryCpu` has run.mjs sample the primary's CPU
// time around the run.

const MIX = { heavyPath: '/cpu?ms=50', heavyRatio: 0.1 };

export const SCENARIOS = [
  {
    id: 'a', group: 'a', title: 'Keep-alive throughput',
    describe: (o) => `autocannon, ${o.connections} keep-alive connections, pipelining ${o.pipelining}, GET /, ${o.durationMs / 1000} s`,
    job: 'keepAlive',
    // autocannon abandons in-flight requests when the window ends, so a hung
    // keep-alive request is only seen if its timeout fires inside the window:
    // the timeout is capped at half the window (run.mjs; autocannon's floor is 1 s).
    opts: (q) => ({ connections: 50, pipelining: 1, durationMs: q ? 1200 : 8000, timeoutCap: 0.5 }),
    metrics: (r) => ({
      rps: r.rps, p50: r.latency.p50, p99: r.latency.p99, max: r.latency.max,
      errors: r.errors, timeouts: r.timeouts, resets: r.resets, non2xx: r.non2xx,
    }),
    main: ['rps', 'p50', 'p99', 'max'], key: 'rps',
  },
  {
    id: 'b', group: 'b', title: 'New connection per request (closed loop)', primaryCpu: true,
    describe: (o) => `${o.concurrency} concurrent loops, \`Connection: close\`, GET /, ${o.durationMs / 1000} s; the primary's CPU time over the run divided by the requests answered (one connection each)`,
    job: 'closed',
    opts: (q) => ({ concurrency: 32, durationMs: q ? 1000 : 6000 }),
    metrics: (r) => ({
      rps: r.rps, p50: r.fast.p50, p99: r.fast.p99, max: r.fast.max,
      // null for a single process: it serves too, so its CPU is not the price of a connection.
      cpuPerConn: r.primaryCpuUs != null && r.ok > 0 ? r.primaryCpuUs / r.ok : null,
      errors: r.errors, timeouts: r.timeouts, resets: r.resets,
    }),
    // What one full core of primary would take at that price: 1e6 / (µs per connection).
    derive: (m) => (m.cpuPerConn?.median == null ? {} : {
      ceiling: { median: 1e6 / m.cpuPerConn.median, min: 1e6 / m.cpuPerConn.max, max: 1e6 / m.cpuPerConn.min },
    }),
    main: ['rps', 'p50', 'p99', 'max', 'cpuPerConn', 'ceiling'], key: 'rps',
  },
  {
    id: 'c-open', group: 'c', title: 'Heterogeneous load, open loop',
    describe: (o) => `${o.rate} req/s on a fixed schedule, new connection each, ${o.mix.heavyRatio * 100}% \`${o.mix.heavyPath}\`, rest GET /, ${o.durationMs / 1000} s`,
    job: 'open',
    opts: (q) => ({ rate: 100, durationMs: q ? 1200 : 12000, mix: MIX, seed: 42 }),
    metrics: (r) => ({
      fastP50: r.fast.p50, fastP90: r.fast.p90, fastP99: r.fast.p99,
      heavyP50: r.heavy.p50, heavyP99: r.heavy.p99, lagP99: r.lag.p99,
      errors: r.errors, timeouts: r.timeouts, resets: r.resets,
    }),
    main: ['fastP50', 'fastP90', 'fastP99', 'heavyP50', 'heavyP99'], key: 'fastP90',
  },
  {
    id: 'c-closed', group: 'c', title: 'Heterogeneous load, closed loop',
    describe: (o) => `${o.concurrency} concurrent loops, new connection each, ${o.mix.heavyRatio * 100}% \`${o.mix.heavyPath}\`, ${o.durationMs / 1000} s`,
    job: 'closed',
    opts: (q) => ({ concurrency: 8, durationMs: q ? 1000 : 6000, mix: MIX, seed: 42 }),
    metrics: (r) => ({
      rps: r.rps, fastP50: r.fast.p50, fastP90: r.fast.p90, fastP99: r.fast.p99, heavyP99: r.heavy.p99,
      errors: r.errors, timeouts: r.timeouts, resets: r.resets,
    }),
    main: ['rps', 'fastP90', 'fastP99', 'heavyP99'], key: 'fastP90',
  },
  {
    id: 'd', group: 'd', title: 'One worker stalls periodically', stall: true,
    describe: (o, c) => `BENCH_STALL=1: one worker blocks ${c.stallMs} ms every ${c.stallEveryMs} ms (first stall ${c.stallFirstMs} ms in); ${o.rate} req/s open loop, new connection each, GET /, ${o.durationMs / 1000} s`,
    job: 'open',
    opts: (q) => ({ rate: 200, durationMs: q ? 1000 : 10000, seed: 7 }),
    metrics: (r) => ({
      p50: r.fast.p50, p99: r.fast.p99, max: r.fast.max, slow: r.fastOver100ms, lagP99: r.lag.p99,
      errors: r.errors, timeouts: r.timeouts, resets: r.resets, stalls: r.stalls, stallPids: r.stallPids,
    }),
    main: ['p50', 'p99', 'max', 'slow'], key: 'p99',
  },
];

/** Counters: reported as totals over all runs rather than medians. */
export const COUNTERS = ['errors', 'timeouts', 'resets', 'non2xx'];

export const LABELS = {
  rps: 'req/s', p50: 'p50 ms', p99: 'p99 ms', max: 'max ms',
  fastP50: 'fast p50 ms', fastP90: 'fast p90 ms', fastP99: 'fast p99 ms',
  heavyP50: 'heavy p50 ms', heavyP99: 'heavy p99 ms', slow: 'requests > 100 ms',
  cpuPerConn: 'primary CPU µs/conn', ceiling: 'ceiling conn/s (1 core)',
};

/** `a,b,c,d` -> scenario objects; `c` means both c-open and c-closed. */
export function selectScenarios(spec) {
  if (!spec) return SCENARIOS;
  const want = spec.split(',').map((s) => s.trim()).filter(Boolean);
  const picked = SCENARIOS.filter((s) => want.includes(s.id) || want.includes(s.group));
  const unknown = want.filter((w) => !SCENARIOS.some((s) => s.id === w || s.group === w));
  if (unknown.length) throw new Error(`unknown scenario(s): ${unknown.join(', ')} (known: a, b, c, c-open, c-closed, d)`);
  return picked;
}
