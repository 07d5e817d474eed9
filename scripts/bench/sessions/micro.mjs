// Part A of the session benchmark: session reads in one process, no cluster.
// A standalone Replica holds 10,000 sessions of ten attributes; each timing
// covers a batch of BATCH operations (process.hrtime.bigint around the batch,
// divided by BATCH: the timer costs ~tens of ns, too much to time one op).
//   node micro.mjs [--quick]   prints one JSON object on stdout
import { parseArgs } from 'node:util';
import { SECRET, dist, profile } from './common.mjs';
import { rng } from '../stats.mjs';

const { SessionManager } = await import(dist('session/manager.js'));
const { Replica } = await import(dist('session/replica.js'));

const { values: args } = parseArgs({ options: { quick: { type: 'boolean', default: false } } });
const SESSIONS = 10_000;
const BATCH = 64;
const SAMPLES = args.quick ? 4_000 : 20_000; // timed batches per case
const WARMUP = args.quick ? 1_000 : 5_000; // untimed batches first (JIT)

// Deterministic picks (mulberry32, from stats.mjs), so every run reads the same sessions.

const replica = new Replica();
const opts = { secret: SECRET };
const builder = new SessionManager(opts, replica);
const cookies = [];
for (let i = 0; i < SESSIONS; i++) {
  const s = builder.load(undefined);
  for (const [k, v] of Object.entries(profile(i))) s.set(k, v);
  await s.save();
  const line = s.setCookie();
  cookies.push(line.slice(0, line.indexOf(';'))); // "shoal.sid=<id>.<mac>": what a browser sends back
}
const KEYS = Object.keys(profile(0));

let sink = 0; // results feed this, so no read can be optimised away

function summarise(ns) {
  ns.sort((a, b) => a - b);
  const at = (p) => ns[Math.min(ns.length - 1, Math.max(0, Math.ceil((p / 100) * ns.length) - 1))];
  const r = (x) => Math.round(x * 10) / 10;
  let sum = 0;
  for (const x of ns) sum += x;
  return { batches: ns.length, opsPerBatch: BATCH, p50Ns: r(at(50)), p90Ns: r(at(90)), p99Ns: r(at(99)), meanNs: r(sum / ns.length) };
}

/**
 * Runs `batch(i, ctx)` (BATCH ops each) WARMUP times untimed, then SAMPLES
 * times timed; per-op ns. `prep(i)`, if given, makes ctx outside the timing.
 */
function measure(batch, prep = () => undefined) {
  for (let i = 0; i < WARMUP; i++) batch(i, prep(i));
  const ns = new Float64Array(SAMPLES);
  for (let i = 0; i < SAMPLES; i++) {
    const ctx = prep(WARMUP + i);
    const t0 = process.hrtime.bigint();
    batch(WARMUP + i, ctx);
    ns[i] = Number(process.hrtime.bigint() - t0) / BATCH;
  }
  return summarise(Array.from(ns));
}

// Index plans made up front, so the timed loops only read arrays.
const pick = rng(42);
const PLAN = 1 << 16;
const sessIx = Uint16Array.from({ length: PLAN }, () => Math.floor(pick() * SESSIONS));
const keyIx = Uint8Array.from({ length: PLAN }, () => Math.floor(pick() * KEYS.length));
const MASK = PLAN - 1;

// (1) session.get(key) on an already loaded Session (what a route does after the load).
const manager = new SessionManager(opts, replica);
const loaded = cookies.map((c) => manager.load(c));
if (loaded.some((s) => s.isNew)) throw new Error('a session did not load');
const get = measure((b) => {
  let o = (b * BATCH) & MASK;
  for (let j = 0; j < BATCH; j++, o = (o + 1) & MASK) if (loaded[sessIx[o]].get(KEYS[keyIx[o]]) !== undefined) sink++;
});

// (2) a returning client: manager.load(cookie) (verified-cookie cache hit) + one get.
const returning = measure((b) => {
  let o = (b * BATCH) & MASK;
  for (let j = 0; j < BATCH; j++, o = (o + 1) & MASK) if (manager.load(cookies[sessIx[o]]).get(KEYS[keyIx[o]]) !== undefined) sink++;
});

// (3) first sight of a cookie: a fresh manager each batch (empty cache), so every load verifies the HMAC.
const first = measure((b, m) => {
  let o = (b * BATCH) & MASK;
  for (let j = 0; j < BATCH; j++, o = (o + 1) & MASK) if (m.load(cookies[(b * BATCH + j) % SESSIONS]).get(KEYS[keyIx[o]]) !== undefined) sink++;
}, () => new SessionManager(opts, replica));

if (sink === 0) throw new Error('nothing read');
const st = replica.stats();
process.stdout.write(`${JSON.stringify({
  sessions: st.sessions, bytes: st.bytes, attributes: KEYS.length, node: process.version,
  cases: {
    get: { what: 'session.get(key) on a loaded Session', ...get },
    loadGet: { what: 'manager.load(cookie) for a returning client (verified-cookie cache hit) + get', ...returning },
    firstLoad: { what: 'manager.load(cookie) never seen by this manager (HMAC verify) + get', ...first },
  },
})}\n`);
