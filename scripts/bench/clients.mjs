// Minimal new-connection-per-request HTTP clients on raw `net`.
// autocannon cannot reconnect per request reliably, and node:http's client does
// too much per-request work for a 2-core box where the generator competes with
// the servers, so a request here is: connect, write one pre-built buffer, read
// until Content-Length is satisfied, destroy. Every request has its own timeout,
// so a hung connection is counted as `timeout` and never stalls the run.
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { rng, summarize } from './stats.mjs';

const HOST = '127.0.0.1';
const requests = new Map();
function requestBytes(path, keepAlive) {
  const key = `${keepAlive ? 'k' : 'c'} ${path}`;
  let b = requests.get(key);
  if (!b) {
    b = Buffer.from(`GET ${path} HTTP/1.1\r\nHost: ${HOST}\r\n${keepAlive ? '' : 'Connection: close\r\n'}\r\n`, 'latin1');
    requests.set(key, b);
  }
  return b;
}

const ERROR_KINDS = { ECONNRESET: 'reset', EPIPE: 'reset', ECONNREFUSED: 'refused' };

/**
 * One request on a fresh connection; cb(outcome, ms, response, socket) exactly
 * once. With keepAlive the request is sent without `Connection: close` and an
 * answered connection is left open and handed to cb (the caller closes it).
 */
export function fetchOnce(port, path, timeoutMs, cb, { keepAlive = false } = {}) {
  const t0 = performance.now();
  const sock = net.connect(port, HOST);
  let done = false;
  let buf = null;
  let need = -1; // total bytes of head + body once the head is parsed
  let status = 0;
  const timer = setTimeout(() => finish('timeout'), timeoutMs);
  function finish(outcome) {
    if (done) return;
    done = true;
    clearTimeout(timer);
    const keep = keepAlive && outcome === 'ok';
    if (!keep) sock.destroy();
    cb(outcome, performance.now() - t0, buf, keep ? sock : null);
  }
  sock.setNoDelay(true);
  sock.write(requestBytes(path, keepAlive));
  sock.on('data', (chunk) => {
    buf = buf ? Buffer.concat([buf, chunk]) : chunk;
    if (need < 0) {
      const he = buf.indexOf('\r\n\r\n');
      if (he < 0) return;
      const head = buf.toString('latin1', 0, he);
      status = Number(head.slice(9, 12));
      const m = /\r\ncontent-length:\s*(\d+)/i.exec(head);
      need = m ? he + 4 + Number(m[1]) : Infinity; // no length: wait for 'end'
    }
    if (buf.length >= need) finish(status === 200 ? 'ok' : 'non2xx');
  });
  sock.on('end', () => {
    if (status && need === Infinity) finish(status === 200 ? 'ok' : 'non2xx');
    else finish('closed'); // the server closed before a full response
  });
  sock.on('error', (e) => finish(ERROR_KINDS[e.code] ?? `error:${e.code ?? e.message}`));
  sock.on('close', () => finish('closed'));
}

/** Picks paths for the request mix, deterministic per seed. */
function picker(mix, seed) {
  if (!mix) return () => ({ path: '/', cls: 'fast' });
  const rand = rng(seed);
  return () => (rand() < mix.heavyRatio ? { path: mix.heavyPath, cls: 'heavy' } : { path: '/', cls: 'fast' });
}

function newTally() {
  return { lat: { fast: [], heavy: [] }, outcomes: { ok: 0 }, okInWindow: 0 };
}
function record(t, cls, outcome, ms, inWindow) {
  t.outcomes[outcome] = (t.outcomes[outcome] ?? 0) + 1;
  if (outcome !== 'ok') return;
  t.lat[cls].push(ms);
  if (inWindow) t.okInWindow++;
}
function report(t, durationMs, extra = {}) {
  const o = t.outcomes;
  const errors = Object.entries(o).reduce((n, [k, v]) => (k === 'ok' ? n : n + v), 0);
  return {
    rps: Math.round((t.okInWindow / durationMs) * 1000 * 10) / 10,
    ok: o.ok,
    errors,
    timeouts: o.timeout ?? 0,
    resets: o.reset ?? 0,
    outcomes: o,
    fast: summarize(t.lat.fast),
    // How many requests a stalled or busy worker held up, not just where p99 fell.
    fastOver100ms: t.lat.fast.reduce((n, ms) => (ms > 100 ? n + 1 : n), 0),
    heavy: summarize(t.lat.heavy),
    ...extra,
  };
}

/**
 * Closed loop: `concurrency` loops, each sends its next request when the
 * previous one finished. Loops stop starting requests at the end of the window
 * and the run ends when the last in-flight request finished or timed out.
 */
export function closedLoop({ port, concurrency, durationMs, timeoutMs, mix = null, seed = 1 }) {
  const t = newTally();
  const t0 = performance.now();
  const endAt = t0 + durationMs;
  const loops = Array.from({ length: concurrency }, (_, i) => new Promise((resolve) => {
    const pick = picker(mix, seed + i);
    const next = () => {
      if (performance.now() >= endAt) return resolve();
      const r = pick();
      fetchOnce(port, r.path, timeoutMs, (outcome, ms) => {
        record(t, r.cls, outcome, ms, performance.now() <= endAt);
        // Back off briefly after a failure so a dead server is not hammered by a spin loop.
        if (outcome === 'ok' || outcome === 'non2xx') next();
        else setTimeout(next, 5);
      });
    };
    next();
  }));
  return Promise.all(loops).then(() => report(t, durationMs, { drainMs: Math.round(performance.now() - endAt) }));
}

/**
 * Open loop: requests are started on a fixed schedule (rate per second)
 * whatever is still outstanding. Latency is measured from the actual send;
 * how late the generator itself was is reported as `lag` so a starved
 * generator is visible rather than silently blamed on the server.
 */
export function openLoop({ port, rate, durationMs, timeoutMs, mix = null, seed = 1 }) {
  return new Promise((resolve) => {
    const t = newTally();
    const n = Math.max(1, Math.round((rate * durationMs) / 1000));
    const interval = 1000 / rate;
    const pick = picker(mix, seed);
    const lags = [];
    let sent = 0;
    let finished = 0;
    let maxOutstanding = 0;
    const t0 = performance.now();
    const endAt = t0 + durationMs;
    const tick = () => {
      const now = performance.now();
      while (sent < n && t0 + sent * interval <= now) {
        lags.push(now - (t0 + sent * interval));
        sent++;
        maxOutstanding = Math.max(maxOutstanding, sent - finished);
        const r = pick();
        fetchOnce(port, r.path, timeoutMs, (outcome, ms) => {
          record(t, r.cls, outcome, ms, true);
          if (++finished === n) {
            resolve(report(t, durationMs, {
              sent, maxOutstanding, lag: summarize(lags), drainMs: Math.round(performance.now() - endAt),
            }));
          }
        });
      }
      if (sent < n) setTimeout(tick, Math.max(0, t0 + sent * interval - performance.now()));
    };
    tick();
  });
}
