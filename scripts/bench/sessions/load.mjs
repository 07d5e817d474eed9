// Load process of the session benchmark: sessions.mjs forks it (through
// ../loadgen-client.mjs's LoadGen) and sends it jobs over IPC, so the load
// runs apart from the harness's polling. Exits when its parent goes away.
//   pool:   make N sessions (GET /new without a cookie), return the cookies
//   cannon: autocannon, keep-alive connections, each request a weighted
//           random path and a random pool cookie; `ports` spreads the
//           connections over several servers (connection i to ports[i % n])
//   paced:  the same requests started on a fixed schedule (rate per second,
//           evenly spaced) instead of as fast as the connections go
//   visibility: part D's probe: write on one host, poll another until the
//           write shows there (see visibility() below)
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import { pct, rng } from '../stats.mjs';
import { serveJobs } from '../jobs.mjs';

/** GET path with an optional cookie on a keep-alive agent; resolves { status, setCookie[, body] } or { error }. */
function get(agent, port, path, cookie, timeoutMs, wantBody = false) {
  return new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port, path, agent, headers: cookie ? { cookie } : {}, timeout: timeoutMs }, (res) => {
      const chunks = [];
      if (wantBody) res.on('data', (c) => chunks.push(c));
      else res.resume();
      res.on('end', () => resolve({ status: res.statusCode, setCookie: res.headers['set-cookie'], ...(wantBody ? { body: Buffer.concat(chunks).toString('utf8') } : {}) }));
      res.on('error', (e) => resolve({ error: e.code ?? e.message }));
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
    req.on('error', (e) => resolve({ error: e.code ?? e.message }));
    req.end();
  });
}

async function pool({ port, count, path = '/new', concurrency = 8, timeoutMs = 5000 }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const cookies = [];
  const failures = [];
  let next = 0;
  async function lane() {
    while (next < count) {
      next++;
      const r = await get(agent, port, path, null, timeoutMs);
      // Every cookie the response sets, as a browser keeps them (the session's, and its version where hosts share Redis).
      const lines = r.setCookie ?? [];
      if (r.status === 200 && lines.length > 0) cookies.push(lines.map((l) => l.slice(0, l.indexOf(';') >>> 0)).join('; '));
      else failures.push(r.error ?? `status ${r.status}${lines.length > 0 ? '' : ', no Set-Cookie'}`);
    }
  }
  try {
    await Promise.all(Array.from({ length: concurrency }, lane));
  } finally {
    agent.destroy();
  }
  return { cookies, failures: failures.slice(0, 10), failed: failures.length };
}

/** Every pool cookie once on `path`: how many answered 200 (a session lost or unknown gives 410). */
async function check({ port, cookies, path, timeoutMs = 5000 }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  const statuses = {};
  try {
    for (const c of cookies) {
      const r = await get(agent, port, path, c, timeoutMs);
      const k = r.error ?? String(r.status);
      statuses[k] = (statuses[k] ?? 0) + 1;
    }
  } finally {
    agent.destroy();
  }
  return statuses;
}

/** A weighted random path of `paths` ({ path, weight }[]) per call, from `rand`. */
function pathPicker(paths, rand) {
  const total = paths.reduce((s, p) => s + p.weight, 0);
  return () => {
    let x = rand() * total;
    for (const p of paths) if ((x -= p.weight) < 0) return p.path;
    return paths[paths.length - 1].path;
  };
}

function cannon({ port, ports, paths, cookies, connections, durationMs, timeoutMs, seed = 1 }) {
  const rand = rng(seed);
  const pickPath = pathPicker(paths, rand);
  const sent = Object.fromEntries(paths.map((p) => [p.path, 0]));
  return new Promise((resolve, reject) => {
    autocannon({
      url: ports ? ports.map((p) => `http://127.0.0.1:${p}`) : `http://127.0.0.1:${port}`,
      connections,
      duration: durationMs / 1000,
      timeout: timeoutMs / 1000,
      sampleInt: 100, // see ../loadgen.mjs: otherwise durations round up to whole seconds
      requests: [{
        setupRequest(req) {
          req.path = pickPath();
          sent[req.path]++;
          req.headers.cookie = cookies[Math.floor(rand() * cookies.length)];
          return req;
        },
      }],
    }, (err, r) => {
      if (err) return reject(err);
      const l = r.latency;
      resolve({
        connections,
        rps: Math.round((r.requests.total / r.duration) * 10) / 10,
        ok: r['2xx'],
        total: r.requests.total,
        errors: r.errors,
        timeouts: r.timeouts,
        resets: r.resets,
        non2xx: r.non2xx,
        statusCodes: r.statusCodeStats,
        durationS: r.duration,
        built: sent, // requests built per path (a few more than completed)
        latency: { mean: l.mean, p50: l.p50, p90: l.p90, p99: l.p99, max: l.max },
      });
    });
  });
}

/**
 * Paced load: request i is due at start + i / rate, whatever is still
 * outstanding (open loop: a slow server does not slow the load down, as
 * autocannon's overallRate would, whose per-second quota also sends each
 * second's requests in a burst). Up to `connections` keep-alive connections
 * (split over `ports`); a request due while all are busy waits for one, and
 * its latency counts from when it was due, so that waiting is in the
 * figures. `lateMs` is how late the generator itself started requests.
 */
async function paced({ ports, paths, cookies, connections, durationMs, timeoutMs, seed = 1, rate }) {
  const rand = rng(seed);
  const pickPath = pathPicker(paths, rand);
  const agents = ports.map(() => new http.Agent({ keepAlive: true, maxSockets: Math.max(1, Math.ceil(connections / ports.length)) }));
  const n = Math.max(1, Math.round((rate * durationMs) / 1000));
  const lat = [];
  const late = [];
  const statusCodes = {};
  let errors = 0;
  let timeouts = 0;
  let resets = 0;
  let ok = 0;
  const inflight = new Set();
  const t0 = performance.now();
  try {
    for (let i = 0; i < n; i++) {
      const due = t0 + (i * 1000) / rate;
      const wait = due - performance.now();
      if (wait > 1) await sleep(wait);
      late.push(Math.max(0, performance.now() - due));
      const k = i % ports.length;
      const p = get(agents[k], ports[k], pickPath(), cookies[Math.floor(rand() * cookies.length)], timeoutMs).then((r) => {
        inflight.delete(p);
        if (r.error) {
          if (r.error === 'ETIMEDOUT') timeouts++;
          else if (r.error === 'ECONNRESET' || r.error === 'EPIPE') resets++;
          else errors++;
          return;
        }
        statusCodes[r.status] = (statusCodes[r.status] ?? 0) + 1;
        if (r.status >= 200 && r.status < 300) ok++;
        lat.push(performance.now() - due);
      });
      inflight.add(p);
    }
    await Promise.all(inflight);
  } finally {
    for (const a of agents) a.destroy();
  }
  const secs = (performance.now() - t0) / 1000;
  lat.sort((a, b) => a - b);
  late.sort((a, b) => a - b);
  const r2 = (x) => (x === undefined || x === null ? null : Math.round(x * 100) / 100);
  const non2xx = Object.entries(statusCodes).reduce((m, [c, k]) => (c.startsWith('2') ? m : m + k), 0);
  return {
    connections, rate, paced: true,
    rps: Math.round((ok / secs) * 10) / 10, ok, total: n, errors, timeouts, resets, non2xx, statusCodes, durationS: r2(secs),
    latency: { mean: r2(lat.reduce((a, b) => a + b, 0) / Math.max(1, lat.length)), p50: r2(pct(lat, 50)), p90: r2(pct(lat, 90)), p99: r2(pct(lat, 99)), max: r2(lat.at(-1)) },
    lateMs: { p50: r2(pct(late, 50)), p99: r2(pct(late, 99)), max: r2(late.at(-1)) },
  };
}

/**
 * Part D: how long a write on one host takes to show on another through the
 * Redis log. A session of its own is made on the writing host (GET /new);
 * then, `count` times (or until `deadlineMs`): GET /set?k=<key>&v=<i> on the
 * writing host, and from that response on, GET /get?k=<key> on the reading
 * host, back to back on one keep-alive connection, until it answers v=i
 * (at most pollTimeoutMs; past it the write counts as a miss). Both hosts get
 * only the session cookie, never the version cookie (shoal.sid.v) a write
 * sets, so the reading host never reads the session from Redis for it: what
 * is timed is propagation through the log. A sample is from the end of the
 * write's response to the end of the first poll response that shows it (an
 * upper bound, one poll round trip coarse); `firstPoll` counts writes already
 * visible on the first poll after the write's response. `lower`: for each
 * sample, the time to the send of the last poll that did not show it yet
 * (0 when the first poll showed it): the write arrived between the two.
 * `arrival`: when the reading host's worker got the change (the `at` its
 * /get answers, BENCH_VIS_STAMP), minus the end of the write's response, on
 * the machine's clock (performance.timeOrigin + now() in both processes, as
 * the runtime's own lag figures); `clock` checks that: the reading worker's
 * clock minus ours, from the /clock ping with the shortest round trip
 * (± half of it), at the start and at the end.
 */
async function visibility({ writePort, readPort, count, deadlineMs, pollTimeoutMs = 2000, timeoutMs = 5000, key = 'vis', cookieName = 'shoal.sid' }) {
  const wa = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const ra = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const end = Date.now() + deadlineMs;
  const samples = [];
  const pollRtt = [];
  const errors = {};
  const err = (what) => { errors[what] = (errors[what] ?? 0) + 1; };
  const lower = [];
  const arrival = [];
  let unstamped = 0;
  const wall = () => performance.timeOrigin + performance.now();
  /** Offset of the reading worker's clock from ours (ms), from the ping with the shortest round trip. */
  async function clockOffset(n = 30) {
    let best = null;
    for (let i = 0; i < n; i++) {
      const ts = wall();
      const r = await get(ra, readPort, '/clock', null, timeoutMs, true);
      const tr = wall();
      let t;
      try { t = JSON.parse(r.body).t; } catch { continue; }
      if (typeof t !== 'number') continue;
      if (best === null || tr - ts < best.rtt) best = { rtt: tr - ts, offset: t - (ts + tr) / 2 };
    }
    return best && { offsetMs: Math.round(best.offset * 1000) / 1000, plusMinusMs: Math.round((best.rtt / 2) * 1000) / 1000 };
  }
  const clock = {};
  let misses = 0;
  let firstPoll = 0;
  let polls = 0;
  let writeRttSum = 0;
  let attempted = 0;
  try {
    const made = await get(wa, writePort, '/new', null, timeoutMs);
    const line = made.setCookie?.find((l) => l.startsWith(`${cookieName}=`));
    if (made.status !== 200 || !line) throw new Error(`GET /new on the writing host: ${made.error ?? `status ${made.status}`}, no ${cookieName} cookie`);
    const cookie = line.slice(0, line.indexOf(';') >>> 0);
    // The reading host must know the session before timing starts (bounded: 200 × ~10 ms).
    let known = false;
    for (let i = 0; i < 200 && !known; i++) {
      const r = await get(ra, readPort, `/get?k=${key}`, cookie, timeoutMs);
      known = r.status === 200;
      if (!known) await sleep(10);
    }
    if (!known) throw new Error('the reading host never found the probe session (GET /get kept failing)');
    clock.start = await clockOffset();
    for (let i = 1; i <= count && Date.now() < end; i++) {
      attempted++;
      const t0 = performance.now();
      const w = await get(wa, writePort, `/set?k=${key}&v=${i}`, cookie, timeoutMs);
      const tw = performance.now();
      writeRttSum += tw - t0;
      if (w.status !== 200) { err(`write: ${w.error ?? `status ${w.status}`}`); continue; }
      let seen = false;
      let lastMissSent = null;
      for (let n = 1; performance.now() - tw < pollTimeoutMs; n++) {
        const ts = performance.now();
        const r = await get(ra, readPort, `/get?k=${key}`, cookie, timeoutMs, true);
        const tr = performance.now();
        polls++;
        pollRtt.push(tr - ts);
        if (r.status !== 200) { err(`read: ${r.error ?? `status ${r.status}`}`); if (r.error) await sleep(5); continue; }
        let v;
        let at;
        try { ({ v, at } = JSON.parse(r.body)); } catch { err('read: bad JSON'); continue; }
        if (v === String(i)) {
          samples.push(tr - tw);
          lower.push(lastMissSent === null ? 0 : Math.max(0, lastMissSent - tw));
          if (typeof at === 'number') arrival.push(at - (performance.timeOrigin + tw));
          else unstamped++;
          if (n === 1) firstPoll++;
          seen = true;
          break;
        }
        if (v !== null && Number(v) > i) { err('read: a later value than written'); break; }
        lastMissSent = ts;
      }
      if (!seen) misses++;
    }
    clock.end = await clockOffset();
  } finally {
    wa.destroy();
    ra.destroy();
  }
  pollRtt.sort((a, b) => a - b);
  const r3 = (x) => Math.round(x * 1000) / 1000;
  return {
    attempted, samples: samples.map(r3), lower: lower.map(r3), arrival: arrival.map(r3), unstamped, clock, misses, firstPoll, polls, errors,
    pollRttP50: pollRtt.length ? r3(pollRtt[Math.floor(pollRtt.length / 2)]) : null,
    writeRttMean: attempted ? r3(writeRttSum / attempted) : null,
    timedOut: attempted < count,
  };
}

serveJobs({ pool, check, cannon, paced, visibility });
