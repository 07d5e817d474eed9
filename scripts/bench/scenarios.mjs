// Scenario definitions: what load each one sends (full and --quick sizes) and
// which figures it reports. `metrics` flattens a load-generator result into
// the numbers the report takes medians of; `main` names the ones in its table,
// `key` the one whose min–max range across runs is shown, `derive` adds figures
// computed from the medians, `unbounded` names metrics whose null means ∞.
// `primaryCpu` has run.mjs sample the primary's CPU time around the run;
// `spread` runs apart from the rounds, on its own start of each contender
// (spread.mjs).

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
  {
    id: 'e', group: 'e', title: 'Connection spread over 4 workers', spread: true,
    describe: (o) => `every multi-process contender started afresh with ${o.workers} workers (apart from the rounds above); at least ${o.afterReadyMs / 1000} s after it was ready (past shoal's 2 s slow start), ${o.count} keep-alive connections opened one after another (each sends GET /stall, answered with the serving pid, and stays open), all closed, then ${o.count} opened at once (and how long each of those took to be answered)`,
    opts: () => ({ workers: 4, count: 100, afterReadyMs: 2500, fixedIdleMs: 300, pollIdleMs: 5000, deadlineMs: 20000 }),
    metrics: (r) => {
      const one = spreadCounts(r.one, r.workers);
      const burst = spreadCounts(r.burst, r.workers);
      return {
        // null when a worker took none: an unbounded ratio (the report reads it as ∞).
        oneMaxMin: one.at(-1) > 0 ? one[0] / one.at(-1) : null,
        burstShare: r.burst.ok > 0 ? (100 * burst[0]) / r.burst.ok : null,
        // How long the burst's connections took to be answered: a gate that lets workers accept
        // in steps of a few connections shows here, not in the shares.
        burstP50: r.burst.answered?.p50 ?? null, burstMax: r.burst.answered?.max ?? null,
        oneCounts: one, burstCounts: burst, closedEarly: r.one.closedEarly + r.burst.closedEarly,
        errors: r.one.errors + r.burst.errors, timeouts: r.one.timeouts + r.burst.timeouts, resets: r.one.resets + r.burst.resets,
      };
    },
    main: ['oneMaxMin', 'burstShare'], key: 'oneMaxMin', unbounded: ['oneMaxMin'],
  },
];

/** Connections per worker, most first, with a 0 for each worker that took none. */
function spreadCounts(part, workers) {
  const counts = Object.values(part.pids).sort((a, b) => b - a);
  while (counts.length < workers) counts.push(0);
  return counts;
}

/** Counters: reported as totals over all runs rather than medians. */
export const COUNTERS = ['errors', 'timeouts', 'resets', 'non2xx'];

export const LABELS = {
  rps: 'req/s', p50: 'p50 ms', p99: 'p99 ms', max: 'max ms',
  fastP50: 'fast p50 ms', fastP90: 'fast p90 ms', fastP99: 'fast p99 ms',
  heavyP50: 'heavy p50 ms', heavyP99: 'heavy p99 ms', slow: 'requests > 100 ms',
  cpuPerConn: 'primary CPU µs/conn', ceiling: 'ceiling conn/s (1 core)',
  oneMaxMin: 'one-by-one max/min', burstShare: 'burst largest share %', burstP50: 'burst answered p50 ms', burstMax: 'burst answered max ms',
};

/** `a,b,c,d,e` -> scenario objects; `c` means both c-open and c-closed. */
export function selectScenarios(spec) {
  if (!spec) return SCENARIOS;
  const want = spec.split(',').map((s) => s.trim()).filter(Boolean);
  const picked = SCENARIOS.filter((s) => want.includes(s.id) || want.includes(s.group));
  const unknown = want.filter((w) => !SCENARIOS.some((s) => s.id === w || s.group === w));
  if (unknown.length) throw new Error(`unknown scenario(s): ${unknown.join(', ')} (known: a, b, c, c-open, c-closed, d, e)`);
  return picked;
}
