// Load process of the session benchmark: sessions.mjs forks it (through
// ../loadgen-client.mjs's LoadGen) and sends it jobs over IPC, so the load
// runs apart from the harness's polling. Exits when its parent goes away.
//   pool:   make N sessions (GET /new without a cookie), return the cookies
//   cannon: autocannon, keep-alive connections, each request a weighted
//           random path and a random pool cookie
import http from 'node:http';
import autocannon from 'autocannon';
import { rng } from '../stats.mjs';
import { serveJobs } from '../jobs.mjs';

/** GET path with an optional cookie on a keep-alive agent; resolves { status, setCookie } or { error }. */
function get(agent, port, path, cookie, timeoutMs) {
  return new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port, path, agent, headers: cookie ? { cookie } : {}, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode, setCookie: res.headers['set-cookie'] }));
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
      const line = r.setCookie?.[0];
      if (r.status === 200 && line) cookies.push(line.slice(0, line.indexOf(';') >>> 0));
      else failures.push(r.error ?? `status ${r.status}${line ? '' : ', no Set-Cookie'}`);
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

function cannon({ port, paths, cookies, connections, durationMs, timeoutMs, seed = 1 }) {
  const rand = rng(seed);
  const total = paths.reduce((s, p) => s + p.weight, 0);
  const pickPath = () => {
    let x = rand() * total;
    for (const p of paths) if ((x -= p.weight) < 0) return p.path;
    return paths[paths.length - 1].path;
  };
  const sent = Object.fromEntries(paths.map((p) => [p.path, 0]));
  return new Promise((resolve, reject) => {
    autocannon({
      url: `http://127.0.0.1:${port}`,
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

serveJobs({ pool, check, cannon });
