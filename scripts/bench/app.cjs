'use strict';
// The tiny HTTP app every contender runs. CommonJS and plain node:http so that
// `node app.cjs`, node:cluster, PM2 and shoal can all load it unchanged.
//
//   GET /            -> small text
//   GET /cpu?ms=50   -> burns that many ms of CPU synchronously, then answers
//   GET /stall       -> JSON: is this process the stalling one, how many stalls so far
//
// Stalling worker (scenario d): only when BENCH_STALL=1, exactly ONE process of
// the cluster blocks its event loop for BENCH_STALL_MS (300) every
// BENCH_STALL_EVERY_MS (2000). If BENCH_STALL_GATE names a file, the stall is
// armed only while that file exists, so the harness can switch it on for one
// scenario without restarting the server; each stall appends a line to
// `<gate>.log` so the harness can check the stall really happened.
const http = require('node:http');
const cluster = require('node:cluster');
const fs = require('node:fs');
const { performance } = require('node:perf_hooks');

const HELLO = Buffer.from('hello from the shoal bench app\n');

function burn(ms) {
  const end = performance.now() + ms;
  // Busy loop on purpose: this is the CPU-bound work the scenarios need.
  while (performance.now() < end);
}

function send(res, status, body, type = 'text/plain') {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

// Which process stalls: the env var each runtime sets for its workers wins,
// in order shoal, PM2, node:cluster; a lone process stalls itself.
function isStaller() {
  const env = process.env;
  if (env.SHOAL_WORKER_ID !== undefined) return env.SHOAL_WORKER_ID === '1';
  if (env.NODE_APP_INSTANCE !== undefined) return env.NODE_APP_INSTANCE === '0';
  if (cluster.worker) return cluster.worker.id === 1;
  return true;
}

const staller = process.env.BENCH_STALL === '1' && isStaller();
let stalls = 0;

if (staller) {
  const every = Number(process.env.BENCH_STALL_EVERY_MS) || 2000;
  const stallMs = Number(process.env.BENCH_STALL_MS) || 300;
  // With a gate, the first stall comes shortly after the gate opens so that even
  // a short (quick-mode) measurement window contains one full stall.
  const first = Number(process.env.BENCH_STALL_FIRST_MS) || 200;
  const gate = process.env.BENCH_STALL_GATE;
  let next = gate ? Infinity : Date.now() + every;
  setInterval(() => {
    const now = Date.now();
    if (gate) {
      if (!fs.existsSync(gate)) { next = Infinity; return; }
      if (next === Infinity) next = now + first;
    }
    if (now < next) return;
    burn(stallMs);
    stalls++;
    next += every;
    if (gate) fs.appendFileSync(`${gate}.log`, `${process.pid} ${now} ${stallMs}\n`);
  }, 25);
}

const server = http.createServer((req, res) => {
  const url = req.url || '/';
  if (url === '/') return send(res, 200, HELLO);
  if (url.startsWith('/cpu')) {
    const m = /[?&]ms=(\d+)/.exec(url);
    const ms = Math.min(m ? Number(m[1]) : 10, 5000);
    burn(ms);
    return send(res, 200, `burned ${ms} ms\n`);
  }
  if (url === '/stall') {
    return send(res, 200, JSON.stringify({ pid: process.pid, staller, stalls }), 'application/json');
  }
  send(res, 404, 'not found\n');
});

// HOST is set by the harness for the contenders it launches itself (loopback
// only); under shoal the primary owns the port, so the app just listens on PORT.
if (process.env.HOST) server.listen(Number(process.env.PORT), process.env.HOST);
else server.listen(Number(process.env.PORT));
