// Part D of the session benchmark: two hosts sharing sessions through Redis.
// Each host is a shoal cluster of one worker (two fit a 2-core machine), on
// its own port, both on one redis-server the bench starts for itself on a
// free port of 127.0.0.1 (no persistence) and kills at the end; every pair of
// hosts gets a key prefix of its own, deleted after it stops.
//   1. visibility: a write on host A, polled on host B without the version
//      cookie (so through the Redis log, not a read-through), idle and under
//      a background load on both hosts; per mode (replicated, distributed)
//   2. round trips: host A reaches Redis through a counting proxy
//      (./redis-proxy.mjs) while both hosts serve /visits; plus Redis's own
//      INFO commandstats over the same window
//   3. throughput: GET /visits over both hosts, shoal replicated /
//      distributed / express-session + ShoalStore against express-session +
//      connect-redis (two hosts of the express app, same cluster shape);
//      interleaved rounds, medians
// The harness hands in what it has (h): cluster start/stop, load jobs, status.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { rootRequire } from './common.mjs';
import { startRedisProxy } from './redis-proxy.mjs';
import { aggregateRounds } from './aggregate.mjs';
import { pct } from '../stats.mjs';
import { BUSY } from '../report.mjs';

const PREFIX = `shoal-bench-d:${process.pid}:`;
let redisProc = null;

/** Last resort (exit, signals): the bench's redis-server goes with it. */
export function killRedisSync() {
  if (redisProc && redisProc.exitCode === null && redisProc.signalCode === null) {
    try { process.kill(-redisProc.pid, 'SIGKILL'); } catch { /* gone */ }
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => { const { port } = srv.address(); srv.close(() => resolve(port)); });
  });
}

/**
 * Starts redis-server on a free port (own process group, not tagged as a
 * cluster: procs.mjs's sweep after a cluster stop must not take it) and
 * connects an ioredis client; { port, url, client, version, stop() } or { error }.
 */
async function startRedis(dir, log) {
  const { Redis } = rootRequire('ioredis');
  let lastError = '';
  for (let attempt = 1; attempt <= 3; attempt++) {
    const port = await freePort();
    const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--protected-mode', 'yes'],
      { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c) => { out = (out + c).slice(-2000); });
    child.stderr.on('data', (c) => { out = (out + c).slice(-2000); });
    const spawnError = await new Promise((resolve) => { child.once('error', resolve); child.once('spawn', () => resolve(null)); });
    if (spawnError) return { error: spawnError.code === 'ENOENT' ? 'redis-server is not installed (apt-get install redis-server)' : `redis-server: ${spawnError.message}` };
    redisProc = child;
    const client = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null, enableOfflineQueue: false });
    client.on('error', () => { /* reported through connect()/ping() */ });
    for (let i = 0; i < 50 && child.exitCode === null; i++) {
      try {
        await client.connect();
        await client.ping();
        const info = await client.info('server');
        const version = /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
        log(`D: redis-server ${version} on 127.0.0.1:${port} (pid ${child.pid}, no persistence)`);
        return {
          port, url: `redis://127.0.0.1:${port}`, client, version, pid: child.pid,
          stop: async () => {
            client.disconnect();
            if (child.exitCode === null && child.signalCode === null) {
              const gone = new Promise((resolve) => child.once('exit', resolve));
              try { process.kill(child.pid, 'SIGTERM'); } catch { /* gone */ }
              await Promise.race([gone, sleep(3000, undefined, { ref: false })]);
              killRedisSync();
            }
          },
        };
      } catch (e) {
        lastError = e.message;
        client.disconnect();
        await sleep(100);
      }
    }
    lastError = `${lastError}; output: ${out.trim().slice(-300)}`;
    killRedisSync();
    log(`D: redis-server on port ${port} did not come up (${lastError.split('\n')[0]}); ${attempt < 3 ? 'trying another port' : 'giving up'}`);
  }
  return { error: `redis-server did not start: ${lastError}` };
}

/** Calls per command name from INFO commandstats. */
async function commandstats(client) {
  const out = {};
  for (const line of (await client.info('commandstats')).split('\n')) {
    const m = /^cmdstat_([^:]+):calls=(\d+)/.exec(line.trim());
    if (m) out[m[1]] = Number(m[2]);
  }
  return out;
}

/** Deletes the keys under `prefix` (this bench's private Redis, but never FLUSHALL); bounded. */
async function deleteKeys(client, prefix) {
  let cursor = '0';
  let n = 0;
  for (let i = 0; i < 100000; i++) {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    if (keys.length) n += await client.unlink(...keys);
    cursor = next;
    if (cursor === '0') break;
  }
  return n;
}

const r3 = (x) => (x === null || x === undefined ? null : Math.round(x * 1000) / 1000);

/** ms samples → { n, p50, p90, p99, max, mean, over10ms }. */
function pcts(xs) {
  const s = [...xs].sort((a, b) => a - b);
  let sum = 0;
  for (const x of s) sum += x;
  return {
    n: s.length, p50: r3(pct(s, 50)), p90: r3(pct(s, 90)), p99: r3(pct(s, 99)), max: r3(s.length ? s[s.length - 1] : null),
    mean: r3(s.length ? sum / s.length : null), over10ms: s.filter((x) => x > 10).length,
  };
}

/**
 * A probe's samples → figures. `arrival` (the reading worker's own stamp,
 * less the measured offset of its clock from the probe's, the mean of the
 * start and end checks; 0 when it had the change before the write's response
 * was in) is what the target is judged on; `polled` (the first poll that
 * showed it, an upper bound) and `lower` (the last poll that did not)
 * bracket it from outside. The raw stamps stay in `raw`.
 */
function summariseVis(v) {
  const polled = pcts(v.samples);
  const checks = [v.clock?.start, v.clock?.end].filter(Boolean);
  const offset = checks.length ? checks.reduce((sum, c) => sum + c.offsetMs, 0) / checks.length : 0;
  const arrival = v.arrival.map((x) => x - offset);
  return {
    writes: v.attempted, n: polled.n, misses: v.misses, errors: v.errors, timedOut: v.timedOut,
    arrival: {
      ...pcts(arrival.map((x) => Math.max(0, x))), beforeResponse: arrival.filter((x) => x <= 0).length, unstamped: v.unstamped,
      clockOffsetMs: r3(offset), clockPlusMinusMs: checks.length ? Math.max(...checks.map((c) => c.plusMinusMs)) : null,
    },
    polled, lower: pcts(v.lower), clock: v.clock,
    firstPollShare: polled.n ? Math.round((v.firstPoll / polled.n) * 1000) / 1000 : null,
    pollsPerWrite: v.attempted ? Math.round((v.polls / v.attempted) * 10) / 10 : null,
    pollRttP50: v.pollRttP50, writeRttMean: v.writeRttMean,
  };
}

/** utime + stime of a process, in clock ticks (USER_HZ = 100); null once it is gone. */
function ticks(pid) {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return Number(rest[11]) + Number(rest[12]);
  } catch { return null; }
}

/** Starts counting CPU per role ({ role: pid }); the returned function gives cores used per role since. */
function cpuByRole(pids) {
  const t0 = Date.now();
  const a = Object.fromEntries(Object.entries(pids).filter(([, pid]) => pid).map(([k, pid]) => [k, [pid, ticks(pid)]]));
  return () => {
    const secs = (Date.now() - t0) / 1000;
    const out = {};
    for (const [k, [pid, t]] of Object.entries(a)) {
      const u = ticks(pid);
      out[k] = t === null || u === null || secs <= 0 ? null : Math.round(((u - t) / 100 / secs) * 100) / 100;
    }
    return out;
  };
}

export async function partD(h) {
  const { cfg, log } = h;
  const D = cfg.d;
  const out = { available: true, redis: null, visibility: [], roundTrips: null, throughput: null };
  const redis = await startRedis(h.tmp, log);
  if (redis.error) {
    log(`D: UNAVAILABLE: ${redis.error}`);
    return { ...out, available: false, unavailable: redis.error };
  }
  out.redis = { version: redis.version, port: redis.port };
  let seq = 0;
  const ports = [cfg.port, cfg.port + 1];

  /** Two hosts of `app`, one worker each; mode undefined: no shoal Redis link (connect-redis contender). */
  async function startPair(tag, app, { env = {}, mode, prefix, urlA = redis.url }) {
    const linkArgs = (url) => (mode ? ['--redis', url, '--redis-prefix', prefix, '--sessions', mode] : []);
    const [a, b] = await Promise.all([
      h.startCluster(join(h.benchDir, app), env, { port: ports[0], workers: 1, args: linkArgs(urlA) }),
      h.startCluster(join(h.benchDir, app), env, { port: ports[1], workers: 1, args: linkArgs(redis.url) }),
    ]);
    if (a.error || b.error) {
      await h.stopCluster(...[a, b].filter((x) => !x.error));
      return { error: `${tag}: ${[a.error && `host A: ${a.error}`, b.error && `host B: ${b.error}`].filter(Boolean).join('; ')}` };
    }
    return { a, b };
  }

  /** Pids of both hosts' primaries and workers, Redis, the load generator and the probe. */
  async function rolePids(pair) {
    const pids = { redis: redis.pid, load: h.loadPids().load, probe: h.loadPids().probe };
    for (const [label, st] of [['A', pair.a], ['B', pair.b]]) {
      const s = await h.statusOf(st.name).catch(() => null);
      pids[`${label} primary`] = s?.primary?.pid ?? st.server.pid;
      for (const w of s?.workers ?? []) pids[`${label} worker${s.workers.length > 1 ? ` ${w.slot}` : ''}`] = w.pid;
    }
    return pids;
  }

  /** What `shoal status` says of each host: its Redis link, its hub, its worker. */
  async function hostStates(tag, pair) {
    const states = [];
    for (const [label, st] of [['A', pair.a], ['B', pair.b]]) {
      const s = await h.statusOf(st.name).catch((e) => ({ error: e.message }));
      if (s.error) { states.push({ host: label, error: s.error }); h.problems.push(`${tag}: host ${label} status failed: ${s.error}`); continue; }
      const { url: _url, ...link } = s.primary?.redis ?? {};
      const state = { host: label, redis: s.primary?.redis ? link : null, hub: s.primary?.sessions ?? null, workers: s.workers.map(h.sessionRow) };
      states.push(state);
      const bad = [];
      const l = state.redis;
      if (l) {
        if (l.status !== 'ready') bad.push(`redis link ${l.status}`);
        if (l.overflows) bad.push(`${l.overflows} queue overflows`);
        if (l.reseeds) bad.push(`${l.reseeds} re-seeds`);
        if (l.resyncs > 1) bad.push(`${l.resyncs} resyncs (1 is the start)`);
        if (l.lastError) bad.push(`last redis error "${l.lastError}"`);
      }
      if (state.hub?.dropped) bad.push(`${state.hub.dropped} malformed changes dropped`);
      for (const w of s.workers) {
        if (w.state !== 'ready') bad.push(`worker ${w.slot} ${w.state}`);
        if (w.restarts) bad.push(`worker ${w.slot}: ${w.restarts} restarts`);
      }
      if (bad.length) h.problems.push(`${tag}: host ${label}: ${bad.join(', ')}`);
    }
    return states;
  }

  /** A stage that threw: recorded in its result and in the report's problems. */
  function failed(tag, res, e) {
    res.error = e.message;
    log(`${tag}: FAILED: ${e.message.split('\n')[0]}`);
    h.problems.push(`${tag}: ${e.message.split('\n')[0]}`);
  }

  async function finish(tag, pair, prefix) {
    const stop = await h.stopCluster(pair.a, pair.b);
    for (const [i, s] of stop.entries()) {
      if (!s.viaCli || !s.graceful || s.leftover || s.orphansKilled.length) {
        h.problems.push(`${tag}: host ${'AB'[i]} did not stop cleanly (${s.stopError ?? ''}${s.graceful ? '' : ' not graceful'}${s.leftover ? ', processes left after exit' : ''}${s.orphansKilled.length ? `, ${s.orphansKilled.length} orphans killed` : ''})`);
      }
    }
    const deleted = await deleteKeys(redis.client, prefix).catch((e) => { log(`${tag}: could not delete keys under ${prefix}: ${e.message}`); return null; });
    return { stop, keysDeleted: deleted };
  }

  // ---- 1. visibility A -> B ----
  async function visibility(mode) {
    const tag = `D visibility ${mode}`;
    await h.waitQuiet(cfg.idleWaitMs, tag);
    const prefix = `${PREFIX}${++seq}:`;
    log(`${tag}: two hosts (fastify + shoal/fastify, 1 worker each, --sessions ${mode}), ${D.visWrites} writes idle, then under ${D.visConnections} connections of /w + /r on both hosts`);
    const pair = await startPair(tag, 'sessions/app-fastify.mjs', { mode, prefix, env: { BENCH_VIS_STAMP: '1' } });
    if (pair.error) { log(`${tag}: FAILED to start: ${pair.error.split('\n')[0]}`); h.problems.push(pair.error); return { mode, error: pair.error }; }
    const res = { mode, readyMs: [pair.a.readyMs, pair.b.readyMs] };
    try {
      const cookies = [...await h.makePool(tag, ports[0], D.poolPerHost), ...await h.makePool(tag, ports[1], D.poolPerHost)];
      const opts = { writePort: ports[0], readPort: ports[1], count: D.visWrites, pollTimeoutMs: D.visPollTimeoutMs };
      const mark = h.cpuMark();
      const idle = await h.probeJob('visibility', { ...opts, key: 'vis-idle', deadlineMs: 60000 }, 90000);
      res.idle = { ...summariseVis(idle), foreignCpu: mark(), raw: { polled: idle.samples, arrival: idle.arrival } };
      const paths = [{ path: '/w', weight: 1 }, { path: '/r', weight: 1 }];
      /** The probe while a background load runs (from 1 s in): { load, probe summary }. */
      const underLoad = async (key, loadOpts, onLoadDone = () => {}) => {
        const loadP = h.cannon({ ports, paths, cookies, connections: D.visConnections, durationMs: D.visLoadMs, ...loadOpts });
        let probe;
        let load;
        try {
          await sleep(1000);
          probe = await h.probeJob('visibility', { ...opts, key, deadlineMs: D.visLoadMs - 1500 }, D.visLoadMs + 60000);
        } finally {
          load = await loadP;
          onLoadDone();
        }
        return { load, vis: { ...summariseVis(probe), foreignCpu: load.foreignCpu, raw: { polled: probe.samples, arrival: probe.arrival } } };
      };
      const cpu = cpuByRole(await rolePids(pair));
      ({ load: res.load, vis: res.loaded } = await underLoad('vis-loaded', { seed: 13 }, () => { res.cpu = cpu(); }));
      // The same again under a paced load, a share of the rate the saturating load reached: the
      // machine busy but not queueing everywhere (at saturation every hop waits for a core).
      const rate = Math.max(1, Math.round(res.load.rps * D.visPacedShare));
      ({ load: res.pacedLoad, vis: res.paced } = await underLoad('vis-paced', { seed: 23, rate }));
      res.hosts = await hostStates(tag, pair);
      h.noteProblems(`${tag} (background load)`, res.load, null);
      h.noteProblems(`${tag} (paced background load)`, res.pacedLoad, null);
      for (const [k, v] of [['idle', res.idle], ['loaded', res.loaded], ['paced', res.paced]]) {
        if (v.misses) h.problems.push(`${tag} ${k}: ${v.misses} of ${v.writes} writes never showed on host B within ${D.visPollTimeoutMs} ms`);
        const errs = Object.entries(v.errors ?? {});
        if (errs.length) h.problems.push(`${tag} ${k}: probe errors ${errs.map(([e, n]) => `${e} ×${n}`).join(', ')}`);
      }
      const busy = (x) => (x >= BUSY ? ` — machine busy: ${x} cores used by other processes` : '');
      for (const [k, v] of [['idle', res.idle], ['loaded', res.loaded], ['paced', res.paced]]) {
        const bg = k === 'loaded' ? res.load : k === 'paced' ? res.pacedLoad : null;
        log(`${tag} ${k}: ${v.n}/${v.writes} writes; A->B at B's worker p50 ${v.arrival.p50} p99 ${v.arrival.p99} max ${v.arrival.max} ms (${v.arrival.n} stamped); first poll showing it p50 ${v.polled.p50} p99 ${v.polled.p99} ms, ${Math.round(v.firstPollShare * 100)}% on the first poll (poll ${v.pollRttP50} ms); clock B-probe ${v.clock?.start?.offsetMs}±${v.clock?.start?.plusMinusMs} ms; misses ${v.misses}${bg ? `; load ${bg.rps} req/s${bg.rate ? ` (paced at ${bg.rate})` : ''} p99 ${bg.latency.p99} ms` : ''}${busy(v.foreignCpu)}`);
      }
      if (res.cpu) log(`${tag}: CPU under load (cores): ${Object.entries(res.cpu).map(([k, x]) => `${k} ${x}`).join(', ')}`);
      for (const [k, v] of [['idle', res.idle], ['loaded', res.loaded], ['paced', res.paced]]) {
        if (v.unstamped || v.arrival.n < v.n) h.problems.push(`${tag} ${k}: ${v.writes - v.arrival.n} writes seen on host B without an arrival stamp (the value did not come in a sess-delta)`);
        const [c0, c1] = [v.clock?.start, v.clock?.end];
        if (!c0 || !c1) h.problems.push(`${tag} ${k}: the clock check of host B's worker failed (${c0 ? 'end' : 'start'}): arrival figures ${c0 || c1 ? 'corrected by one check only' : 'not corrected'}`);
        else if (Math.abs(c0.offsetMs - c1.offsetMs) > c0.plusMinusMs + c1.plusMinusMs + 0.5) h.problems.push(`${tag} ${k}: host B's worker clock moved against the probe's during the run (${c0.offsetMs}±${c0.plusMinusMs} then ${c1.offsetMs}±${c1.plusMinusMs} ms): the arrival figures are off by up to half the difference`);
      }
    } catch (e) {
      failed(tag, res, e);
    } finally {
      Object.assign(res, await finish(tag, pair, prefix));
    }
    return res;
  }

  // ---- 2. round trips per write batch ----
  async function roundTrips() {
    const tag = 'D round trips';
    await h.waitQuiet(cfg.idleWaitMs, tag);
    const prefix = `${PREFIX}${++seq}:`;
    const proxy = await startRedisProxy(redis.port);
    log(`${tag}: host A through a counting proxy (port ${proxy.port}), host B direct, --sessions replicated; /visits on both, ${D.rtConnections} connections, ${D.rtDurationMs / 1000} s`);
    const pair = await startPair(tag, 'sessions/app-fastify.mjs', { mode: 'replicated', prefix, urlA: `redis://127.0.0.1:${proxy.port}` });
    if (pair.error) { await proxy.close(); log(`${tag}: FAILED to start: ${pair.error.split('\n')[0]}`); h.problems.push(pair.error); return { error: pair.error }; }
    const res = {};
    try {
      const cookies = [...await h.makePool(tag, ports[0], D.poolPerHost), ...await h.makePool(tag, ports[1], D.poolPerHost)];
      const paths = [{ path: '/visits', weight: 1 }];
      await h.cannon({ ports, paths, cookies, connections: D.rtConnections, durationMs: cfg.warmupMs, seed: 17 });
      const before = await commandstats(redis.client);
      proxy.reset();
      const r = await h.cannon({ ports, paths, cookies, connections: D.rtConnections, durationMs: D.rtDurationMs, seed: 19 });
      const px = proxy.stats();
      const after = await commandstats(redis.client);
      const delta = Object.fromEntries(Object.keys(after).map((k) => [k, after[k] - (before[k] ?? 0)]).filter(([, n]) => n > 0));
      // Commands a script runs count too: each batch's log script call is one EVALSHA (or EVAL) running one XADD.
      const xadd = delta.xadd ?? 0;
      const merges = (delta.evalsha ?? 0) + (delta.eval ?? 0) - xadd;
      const spans = Object.keys(px.spans).map(Number);
      res.load = r;
      res.proxy = px;
      res.commandstats = delta;
      res.hostA = {
        batches: px.batches,
        roundTripsPerBatch: px.batches ? Math.round((px.writeFlights / px.batches) * 1000) / 1000 : null,
        maxRoundTripsPerBatch: spans.length ? Math.max(...spans) : null,
        sessionsPerBatch: px.batches ? Math.round((px.merges / px.batches) * 100) / 100 : null,
        maxSessionsPerBatch: px.maxSessionsPerBatch,
        otherFlights: px.flights - px.writeFlights,
      };
      res.redisSide = {
        xadd, merges,
        commandsPerBatch: xadd ? Math.round(((merges + xadd) / xadd) * 100) / 100 : null,
        sessionsPerBatch: xadd ? Math.round((merges / xadd) * 100) / 100 : null,
      };
      res.hosts = await hostStates(tag, pair);
      h.noteProblems(tag, r, null);
      if (px.parseErrors) h.problems.push(`${tag}: the proxy could not parse ${px.parseErrors} chunks of host A's commands`);
      log(`${tag}: host A sent ${px.batches} write batches in ${px.writeFlights} round trips (${res.hostA.roundTripsPerBatch} per batch, max ${res.hostA.maxRoundTripsPerBatch}), ${res.hostA.sessionsPerBatch} sessions per batch (max ${px.maxSessionsPerBatch}); Redis saw ${merges} merges + ${xadd} log entries from both hosts (${res.redisSide.commandsPerBatch} commands per batch); load ${r.rps} req/s`);
    } catch (e) {
      failed(tag, res, e);
    } finally {
      Object.assign(res, await finish(tag, pair, prefix));
      await proxy.close();
    }
    return res;
  }

  // ---- 3. throughput side by side ----
  async function throughput() {
    const contenders = [
      { id: 'fastify-repl', app: 'sessions/app-fastify.mjs', mode: 'replicated' },
      { id: 'fastify-dist', app: 'sessions/app-fastify.mjs', mode: 'distributed' },
      { id: 'express-shoal-repl', app: 'sessions/app-express.mjs', mode: 'replicated', env: { BENCH_SESSION_STORE: 'shoal' } },
      { id: 'redis', app: 'sessions/app-express.mjs', env: { BENCH_SESSION_STORE: 'redis', BENCH_REDIS_URL: redis.url } },
    ];
    const unavailable = {};
    try {
      await import('redis');
      await import('connect-redis');
    } catch (e) {
      unavailable.redis = `redis / connect-redis not installed in scripts/bench (npm --prefix scripts/bench install): ${e.message.split('\n')[0]}`;
      log(`D: connect-redis contender UNAVAILABLE: ${unavailable.redis}`);
    }
    const results = [];
    for (let round = 1; round <= D.rounds; round++) {
      const order = contenders.map((_, i) => contenders[(i + round - 1) % contenders.length]);
      for (const c of order) {
        if (unavailable[c.id]) continue;
        const tag = `D throughput round ${round}/${D.rounds} ${c.id}`;
        await h.waitQuiet(cfg.idleWaitMs, tag);
        const prefix = `${PREFIX}${++seq}:`;
        const env = { ...c.env, ...(c.mode ? {} : { BENCH_REDIS_PREFIX: `${prefix}sess:` }) };
        log(`${tag}: starting`);
        const pair = await startPair(tag, c.app, { env, mode: c.mode, prefix });
        if (pair.error) {
          if (!results.some((r) => r.contender === c.id && r.metrics)) unavailable[c.id] = `did not start: ${pair.error}`;
          results.push({ round, contender: c.id, error: `start failed: ${pair.error}` });
          log(`${tag}: FAILED to start: ${pair.error.split('\n')[0]}`);
          continue;
        }
        const entry = { round, contender: c.id, readyMs: [pair.a.readyMs, pair.b.readyMs], noDelay: pair.a.noDelay };
        try {
          const cookies = [...await h.makePool(tag, ports[0], D.poolPerHost), ...await h.makePool(tag, ports[1], D.poolPerHost)];
          const paths = [{ path: '/visits', weight: 1 }];
          await h.cannon({ ports, paths, cookies, connections: D.connections, durationMs: cfg.warmupMs, seed: 3 });
          const cpu = cpuByRole(await rolePids(pair));
          const r = await h.cannon({ ports, paths, cookies, connections: D.connections, durationMs: cfg.durationMs, seed: 5 });
          entry.cpu = cpu();
          entry.result = r;
          entry.metrics = { rps: r.rps, p50: r.latency.p50, p90: r.latency.p90, p99: r.latency.p99, max: r.latency.max, errors: r.errors + r.timeouts, non2xx: r.non2xx };
          entry.hosts = await hostStates(tag, pair);
          h.noteProblems(tag, r, null);
          const busy = r.foreignCpu >= BUSY ? ` — machine busy: ${r.foreignCpu} cores used by other processes` : '';
          log(`${tag}: ${r.rps} req/s, p50 ${r.latency.p50} p99 ${r.latency.p99} ms, errors ${r.errors}, timeouts ${r.timeouts}, non-2xx ${r.non2xx}${busy}`);
        } catch (e) {
          entry.error = e.message;
          log(`${tag}: FAILED: ${e.message.split('\n')[0]}`);
          h.problems.push(`${tag}: ${e.message.split('\n')[0]}`);
        } finally {
          Object.assign(entry, await finish(tag, pair, prefix));
          results.push(entry);
        }
      }
    }
    return { results, unavailable, agg: aggregateRounds(results, contenders.map((c) => c.id), 'redis') };
  }

  try {
    if (D.stages.has('visibility')) for (const mode of ['replicated', 'distributed']) out.visibility.push(await visibility(mode));
    if (D.stages.has('roundtrips')) out.roundTrips = await roundTrips();
    if (D.stages.has('throughput')) out.throughput = await throughput();
    const left = await redis.client.dbsize().catch(() => null);
    out.redis.keysLeft = left;
    out.redis.memory = /used_memory_human:(\S+)/.exec(await redis.client.info('memory').catch(() => ''))?.[1] ?? null;
  } finally {
    await redis.stop();
    log('D: redis-server stopped');
  }
  return out;
}
