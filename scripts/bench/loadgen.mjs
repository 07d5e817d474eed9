// Load generator process. run.mjs forks it once and sends it jobs over IPC,
// so the generator stays warm (no per-run startup cost) and runs apart from
// the harness's own bookkeeping. It exits as soon as its parent goes away.
import autocannon from 'autocannon';
import { closedLoop, openLoop, fetchOnce } from './clients.mjs';
import { serveJobs } from './jobs.mjs';
import { spread } from './spread-client.mjs';

function keepAlive({ port, path = '/', connections, pipelining = 1, durationMs, timeoutMs }) {
  return new Promise((resolve, reject) => {
    autocannon({
      url: `http://127.0.0.1:${port}${path}`,
      connections,
      pipelining,
      duration: durationMs / 1000,
      timeout: timeoutMs / 1000,
      // autocannon checks its stop flag once per sample interval (1 s by
      // default), which would round every duration up to whole seconds.
      sampleInt: 100,
    }, (err, r) => {
      if (err) return reject(err);
      const l = r.latency;
      resolve({
        rps: Math.round((r.requests.total / r.duration) * 10) / 10,
        ok: r['2xx'],
        sent: r.requests.sent,
        errors: r.errors,
        timeouts: r.timeouts,
        resets: r.resets,
        non2xx: r.non2xx,
        durationS: r.duration,
        timeoutMs,
        latency: { mean: l.mean, p50: l.p50, p90: l.p90, p99: l.p99, max: l.max },
      });
    });
  });
}

/** A few sequential fresh-connection GETs: is the server still answering? */
function probe({ port, path = '/', count = 3, timeoutMs = 2000 }) {
  return new Promise((resolve) => {
    const outcomes = [];
    const one = () => fetchOnce(port, path, timeoutMs, (outcome, ms) => {
      outcomes.push({ outcome, ms: Math.round(ms * 100) / 100 });
      if (outcomes.length < count) one();
      else resolve({ ok: outcomes.every((o) => o.outcome === 'ok'), outcomes });
    });
    one();
  });
}

serveJobs({ keepAlive, closed: closedLoop, open: openLoop, probe, spread });
