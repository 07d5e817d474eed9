// Part D's verdicts and its section of BENCHMARKS-sessions.md (./cross-host.mjs measures).
import { BUSY } from '../report.mjs';

export const D_LABELS = {
  'fastify-repl': 'fastify + shoal/fastify, `--sessions replicated`',
  'fastify-dist': 'fastify + shoal/fastify, `--sessions distributed`',
  'express-shoal-repl': 'express-session + shoal ShoalStore, `--sessions replicated`',
  redis: 'express-session + connect-redis (no shoal Redis link)',
};

const num = (x) => typeof x === 'number' && Number.isFinite(x);

export function evaluateD(D, t) {
  if (!D.available) return [{ target: 'D: across hosts through Redis', figure: `unavailable: ${D.unavailable}`, ok: null }];
  const rows = [];
  // Judged on the reading worker's own arrival stamps when every seen write has one, else on the polls (an upper bound).
  const stamped = (x) => x.arrival?.n > 0 && x.arrival.n === x.n;
  const fig = (x) => (stamped(x) ? x.arrival : x.polled);
  for (const v of D.visibility ?? []) {
    // Two loads, both judged: paced at a share of capacity, and saturating (every hop then waits for a core).
    for (const [what, x, bg] of [['paced', v.paced, v.pacedLoad], ['saturated', v.loaded, v.load]]) {
      const target = `D: a change on host A visible on host B (through the log, no version cookie), p99 ≤ ${t.visP99Ms} ms under load, ${v.mode}, ${what === 'paced' ? `load paced at ${Math.round((bg?.rate ?? 0) / Math.max(1, v.load?.rps ?? 1) * 100)}% of the saturated rate` : `saturating load (${v.load?.connections ?? '?'} connections, closed loop)`}`;
      if (!x || !bg) { rows.push({ target, figure: `no run${v.error ? `: ${v.error.split('\n')[0].slice(0, 160)}` : ''}`, ok: false }); continue; }
      rows.push({
        target,
        figure: `${Math.round(bg.rps)} req/s, request p99 ${bg.latency.p99} ms: ${stamped(x) ? 'at B\'s worker' : 'first poll showing it'} p50 ${fig(x).p50} ms, **p99 ${fig(x).p99} ms**, max ${fig(x).max} ms over ${x.n} writes${x.misses ? `, ${x.misses} never seen` : ''} (first poll on B showing it: p50 ${x.polled.p50}, p99 ${x.polled.p99} ms); idle: p50 ${fig(v.idle).p50}, p99 ${fig(v.idle).p99} ms`,
        ok: num(fig(x).p99) && fig(x).p99 <= t.visP99Ms && !x.misses,
      });
    }
  }
  const rt = D.roundTrips;
  const rtTarget = `D: Redis round trips per session write batch ≤ ${t.roundTripsPerBatch}`;
  if (!rt?.hostA) rows.push({ target: rtTarget, figure: `no run${rt?.error ? `: ${rt.error.split('\n')[0].slice(0, 160)}` : ''}`, ok: false });
  else {
    rows.push({
      target: rtTarget,
      figure: `${rt.hostA.roundTripsPerBatch} per batch, max ${rt.hostA.maxRoundTripsPerBatch} (host A on the wire: ${rt.hostA.batches} batches of ${rt.hostA.sessionsPerBatch} sessions on average); Redis: ${rt.redisSide.commandsPerBatch} script calls per batch (merges + 1 log entry)`,
      ok: num(rt.hostA.maxRoundTripsPerBatch) && rt.hostA.batches > 0 && rt.hostA.maxRoundTripsPerBatch <= t.roundTripsPerBatch,
    });
  }
  const agg = D.throughput?.agg ?? {};
  const ids = Object.keys(agg);
  rows.push({
    target: 'D: no errors or non-2xx on any throughput contender',
    figure: ids.length ? ids.map((id) => `${id} ${agg[id].errors + agg[id].non2xx}`).join(', ') : 'no run',
    ok: ids.length ? ids.every((id) => agg[id].errors + agg[id].non2xx === 0) : null,
  });
  return rows;
}

export function renderD(doc, { f, ms, row }) {
  const { config: cfg, D } = doc;
  const c = cfg.d;
  const L = [];
  const p = (...xs) => L.push(...xs);
  p('## D. Across hosts through Redis', '');
  if (!D.available) { p(`Unavailable: ${D.unavailable}.`, ''); return L; }
  p(`Two hosts, each a shoal cluster of one worker (\`shoal start <app> --workers 1 --port ${cfg.port} | ${cfg.port + 1} --redis redis://127.0.0.1:<port> --redis-prefix <prefix> --sessions replicated|distributed\`), on one redis-server ${D.redis.version} the bench starts for itself on a free port of 127.0.0.1 (\`--save '' --appendonly no\`) and stops at the end. Each pair of hosts gets a key prefix of its own, whose keys are deleted after it stops. A host's primary sends the changes of one turn of its event loop as one batch: a merge script per session (EVALSHA) and one call of the log script, which appends the batch's entry, numbered, to the \`<prefix>log\` stream (XADD), in one ioredis pipeline; the other host reads the stream (XREAD BLOCK) and applies it. The two hosts, Redis, the load generator and the probe share the machine's ${doc.meta.cores} cores.`, '');

  p('### Visibility: a write on host A, read on host B', '');
  p(`A probe process makes a session on host A (GET /new), then ${c.visWrites} times: \`GET /set?k=…&v=<i>\` on host A, and from the end of that response, \`GET /get?k=…\` on host B back to back on one keep-alive connection until it answers v=i (at most ${c.visPollTimeoutMs} ms, else a miss). Both requests carry only the \`shoal.sid\` cookie: the \`shoal.sid.v\` version cookie a write sets is dropped, so host B never reads the session from Redis on its account (that read-your-writes path holds by construction and is not what is timed here): the write reaches B through the log. Host A answers a write only once its batch is in Redis, so every figure starts at the end of A's response, after its log entry is in. Measured idle; then while autocannon runs ${c.visConnections} connections over both hosts (50% \`GET /w\`, 50% \`GET /r\` on ${c.poolPerHost * 2} sessions made half on each host) for ${c.visLoadMs / 1000} s, the probe starting 1 s in: first as fast as they go (closed loop: it saturates the machine, and every hop then waits for a core), then paced at ${Math.round(c.visPacedShare * 100)}% of the rate that reached (the load process's own open-loop generator, scripts/bench/sessions/load.mjs paced(): request i due at start + i / rate over up to as many keep-alive connections, latency counted from when it was due; autocannon's overallRate sends each second's quota in a burst): the machine busy, not saturated. Both are judged.`, '');
  p(`**At B's worker** (what the target is judged on): the app on these hosts wraps its replica's \`receive()\` (\`BENCH_VIS_STAMP=1\`, scripts/bench/sessions/app-fastify.mjs) to stamp when a change to the probe's key arrives from the primary, and \`/get\` returns that stamp with the value: arrival minus the end of A's response, both on \`performance.timeOrigin + performance.now()\` (as shoal's own lag figures), corrected by the offset between the two processes' clocks: B's worker minus the probe, from the \`/clock\` ping with the shortest round trip out of 30, at the start and at the end of the probe (mean of the two; ± half that round trip is the figures' uncertainty). 0 when B had it before A's response was in. **Polled**: the end of the first poll response on B that showed the write: what a client sees, an upper bound one poll round trip coarse.`, '');
  p(row(['mode', 'load', 'writes seen', 'at B: p50', 'p90', '**p99**', 'max', '> 10 ms', 'before A\'s response', 'polled: p50', 'p99', 'max', 'on 1st poll', 'poll round trip p50', 'A write round trip mean', 'clock B − probe', 'background req/s, p99', 'other CPU']),
    row(['---', '---', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:']));
  for (const v of D.visibility ?? []) {
    if (!v.idle) { p(row([v.mode, `failed: ${String(v.error).split('\n')[0].slice(0, 120)}`, ...Array(16).fill('')])); continue; }
    const stages = [['idle', v.idle, null], [`paced, ${v.pacedLoad?.rate} req/s offered`, v.paced, v.pacedLoad], [`${v.load?.connections ?? c.visConnections} connections, saturating`, v.loaded, v.load]];
    for (const [k, x, bg] of stages) {
      if (!x) continue;
      const a = x.arrival;
      const ck = a.clockPlusMinusMs !== null && a.clockPlusMinusMs !== undefined ? `${f(a.clockOffsetMs, 3)} ± ${f(a.clockPlusMinusMs, 3)} ms` : '–';
      p(row([v.mode, k, `${x.n}/${x.writes}${x.misses ? ` (${x.misses} missed)` : ''}${a.n < x.n ? `, ${a.n} stamped` : ''}`, ms(a.p50), ms(a.p90), `**${ms(a.p99)}**`, ms(a.max), a.over10ms, a.beforeResponse,
        ms(x.polled.p50), ms(x.polled.p99), ms(x.polled.max), `${Math.round((x.firstPollShare ?? 0) * 100)}%`, ms(x.pollRttP50), ms(x.writeRttMean), ck,
        bg ? `${f(bg.rps, 0)}, ${ms(bg.latency.p99)}` : '–', `${f(x.foreignCpu)} cores`]));
    }
  }
  p('');
  const cpuRows = (D.visibility ?? []).filter((v) => v.cpu);
  if (cpuRows.length) {
    const roles = [...new Set(cpuRows.flatMap((v) => Object.keys(v.cpu)))];
    p('CPU while the background load ran (cores, from /proc):', '', row(['mode', ...roles]), row(['---', ...roles.map(() => '---:')]));
    for (const v of cpuRows) p(row([v.mode, ...roles.map((r) => f(v.cpu[r]))]));
    p('');
  }

  const rt = D.roundTrips;
  p('### Redis round trips per write batch', '');
  p(`Counted on the wire: host A reaches Redis through a pass-through proxy of the bench's (\`scripts/bench/sessions/redis-proxy.mjs\`) that parses the commands host A sends and counts "flights": the bytes a client sends between two replies (a client that waits for an answer before sending again starts a new flight). A batch is the merges (EVALSHA on a session key; EVAL the first time on a connection, the script sent whole) up to the log script call (on the log key) that ends it; its round trips are the flights it was sent in. Host B connects directly. Both hosts \`--sessions replicated\`, ${c.rtConnections} connections of \`GET /visits\` over both for ${c.rtDurationMs / 1000} s after a ${cfg.warmupMs / 1000} s warm-up; Redis's own \`INFO commandstats\` over the same window (both hosts) as a cross-check. By construction (\`runtime/session/redis/client.ts\` writeBatch: every merge and the log entry go into one \`pipeline()\`, one \`exec()\`; \`runtime/session/redis/link.ts\` #flush: one batch in flight at a time), a batch is one round trip; this measures that it is.`, '');
  if (rt?.hostA) {
    const a = rt.hostA;
    const px = rt.proxy;
    p(row(['measure', 'value']), row(['---', '---:']));
    p(row(['host A: write batches (log entries)', a.batches]));
    p(row(['host A: flights that carried a merge or a log entry', px.writeFlights]));
    p(row(['**host A: round trips per batch** (mean / max)', `**${a.roundTripsPerBatch} / ${a.maxRoundTripsPerBatch}**`]));
    p(row(['host A: batches by round trips spanned', Object.entries(px.spans).map(([k, n]) => `${k}: ${n}`).join(', ') || '–']));
    p(row(['host A: sessions per batch (mean / max)', `${a.sessionsPerBatch} / ${a.maxSessionsPerBatch}`]));
    p(row(['host A: scripts sent whole (EVAL)', px.evals]));
    p(row(['host A: other flights (heartbeat SET, XREAD on the log connection, …)', a.otherFlights]));
    p(row(['host A: commands seen', Object.entries(px.commands).sort((x, y) => y[1] - x[1]).map(([k, n]) => `${k} ${n}`).join(', ')]));
    p(row(['Redis (both hosts): merges / log entries (XADD)', `${rt.redisSide.merges} / ${rt.redisSide.xadd}`]));
    p(row(['Redis (both hosts): script calls per batch', rt.redisSide.commandsPerBatch]));
    p(row(['load: req/s, p99, errors + non-2xx', `${f(rt.load.rps, 0)}, ${ms(rt.load.latency.p99)}, ${rt.load.errors + rt.load.timeouts + rt.load.non2xx}`]));
    p('');
  } else p(`No run${rt?.error ? `: ${rt.error}` : ''}.`, '');

  const T = D.throughput;
  p('### A session endpoint over two hosts, side by side', '');
  p(`\`GET /visits\` (read a counter, increment it, write it back; sessions of ten attributes from GET /new, ${c.poolPerHost} made on each host). autocannon: ${c.connections} keep-alive connections split evenly over the two hosts (one autocannon, both URLs), ${cfg.durationMs / 1000} s after a ${cfg.warmupMs / 1000} s warm-up, each request a random cookie from both hosts' sessions, so about half the requests use a session made on the other host. ${c.rounds} interleaved round${c.rounds > 1 ? 's' : ''} (the order rotates), medians over rounds; rounds with ≥ ${BUSY} cores of other load are left out when two clean ones remain. connect-redis: the same express app on two shoal hosts without \`--redis\`; it reads and writes the whole session per request (GET + SET EX).`, '');
  if (T) {
    const nagle = T.results.some((r) => r.noDelay === false && r.contender !== 'fastify-repl' && r.contender !== 'fastify-dist');
    if (nagle && !cfg.appNoDelay) p('As in C, Nagle was on for the connections shoal hands to the workers, which holds back the express contenders\' responses (see C).', '');
    p(row(['contender', 'req/s', 'req/s range', 'p50', 'p90', 'p99', 'errors', 'non-2xx', 'req/s vs connect-redis', 'p99 vs connect-redis', 'runs']),
      row(['---', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:']));
    for (const [id, label] of Object.entries(D_LABELS)) {
      const a = T.agg[id];
      if (!a) { p(row([label, T.unavailable?.[id] ? 'unavailable' : 'no run', '', '', '', '', '', '', '', '', ''])); continue; }
      p(row([label, `**${f(a.rps, 0)}**`, `${f(a.rpsRange[0], 0)}–${f(a.rpsRange[1], 0)}`, ms(a.p50), ms(a.p90), `**${ms(a.p99)}**`, a.errors, a.non2xx,
        a.rpsRatio === null ? '–' : `×${f(a.rpsRatio)}`, a.p99Ratio === null ? '–' : `×${f(a.p99Ratio)}`, `${a.used}/${a.runs}${a.busy ? ` (${a.busy} busy)` : ''}`]));
    }
    p('');
    for (const [id, why] of Object.entries(T.unavailable ?? {})) p(`- **${id} unavailable**: ${why}`, '');
    const roles = ['A primary', 'A worker', 'B primary', 'B worker', 'redis', 'load'];
    p('Every run (CPU in cores from /proc over the measured run: each host\'s primary and worker, Redis, the load generator):', '',
      row(['round', 'contender', 'req/s', 'p50', 'p99', 'max', 'errors', 'non-2xx', ...roles.map((r) => `CPU ${r}`), 'other CPU', 'ready (A, B)']), row(['---', '---', ...Array(roles.length + 8).fill('---:')]));
    for (const r of T.results) {
      if (!r.metrics) { p(row([r.round, r.contender, `failed: ${String(r.error).split('\n')[0].slice(0, 120)}`, ...Array(roles.length + 6).fill('')])); continue; }
      const mm = r.metrics;
      p(row([r.round, r.contender, f(mm.rps, 0), ms(mm.p50), ms(mm.p99), ms(mm.max), mm.errors, mm.non2xx, ...roles.map((k) => f(r.cpu?.[k])), f(r.result.foreignCpu), `${r.readyMs.join(', ')} ms`]));
    }
    p('');
  } else p('No run.', '');

  // The hosts' Redis links as `shoal status` showed them after each stage.
  const stages = [
    ...(D.visibility ?? []).map((v) => [`visibility ${v.mode}`, v.hosts]),
    ['round trips', rt?.hosts],
    ...(T?.results ?? []).map((r) => [`throughput ${r.round} ${r.contender}`, r.hosts]),
  ].filter(([, hs]) => hs?.some((x) => x.redis));
  if (stages.length) {
    p('Each host\'s Redis link after each stage (`shoal status`): status, changes queued, queue overflows, re-seeds, resyncs (1 = the start), last error; then the worker\'s replication lag p99 (primary to worker).', '');
    p(row(['stage', 'host A', 'host B']), row(['---', '---', '---']));
    const cell = (x) => (!x ? '–' : x.error ? `status failed: ${x.error}` : !x.redis ? 'no link'
      : `${x.redis.status}, q ${x.redis.queued}, ovf ${x.redis.overflows}, reseed ${x.redis.reseeds}, resync ${x.redis.resyncs}${x.redis.lastError ? `, err "${x.redis.lastError}"` : ''}; lag p99 ${ms(x.workers?.[0]?.lagP99)}`);
    for (const [name, hs] of stages) p(row([name, cell(hs.find((x) => x.host === 'A')), cell(hs.find((x) => x.host === 'B'))]));
    p('');
  }
  return L;
}

export function summaryD(D, { f, ms }) {
  if (!D.available) return [`D  unavailable: ${D.unavailable}`];
  const t = [];
  for (const v of D.visibility ?? []) {
    if (!v.loaded) { t.push(`D  visibility ${v.mode}: failed`); continue; }
    t.push(`D  visibility ${v.mode.padEnd(11)} at B: idle p50 ${ms(v.idle.arrival.p50)} p99 ${ms(v.idle.arrival.p99)} | paced p50 ${ms(v.paced?.arrival.p50)} p99 ${ms(v.paced?.arrival.p99)} max ${ms(v.paced?.arrival.max)} | saturated p50 ${ms(v.loaded.arrival.p50)} p99 ${ms(v.loaded.arrival.p99)} max ${ms(v.loaded.arrival.max)} (n ${v.loaded.arrival.n}/${v.loaded.writes}, misses ${v.loaded.misses}); polled saturated p99 ${ms(v.loaded.polled.p99)}`);
  }
  const rt = D.roundTrips?.hostA;
  if (rt) t.push(`D  round trips per batch ${rt.roundTripsPerBatch} (max ${rt.maxRoundTripsPerBatch}, ${rt.batches} batches, ${rt.sessionsPerBatch} sessions/batch)`);
  for (const id of Object.keys(D_LABELS)) {
    const a = D.throughput?.agg?.[id];
    t.push(`D  ${id.padEnd(18)} ${a ? `${f(a.rps, 0).padStart(6)} req/s  p50 ${ms(a.p50).padStart(9)}  p99 ${ms(a.p99).padStart(9)}  err ${a.errors + a.non2xx}${a.rpsRatio !== null ? `  ×${f(a.rpsRatio)} req/s vs connect-redis` : ''}` : D.throughput?.unavailable?.[id] ? 'unavailable' : 'no run'}`);
  }
  return t;
}
