// Measures a /metrics scrape of a 2-worker cluster running scripts/scrape-app.mjs
// (prom-client default metrics + a counter and a histogram per request):
//  1. idle: N back-to-back scrapes; CPU the workers and the primary spent, per scrape;
//  2. under load (wrk -t1 -c50): scrape latency p50/p99 over 50 scrapes, 100 ms apart,
//     and the workers' CPU over 5 s with those scrapes against 5 s without.
// CPU from /proc/<pid>/stat (utime + stime). Linux, wrk on PATH.
// Usage: npm run build && node scripts/scrape-cost.mjs [N=200]
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const N = Number(process.argv[2] ?? 200);
const TICK_MS = 1000 / 100; // USER_HZ: 100 on Linux
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const freePort = () => new Promise((resolve) => { const s = net.createServer().listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); }); });
const cpuMs = (pid) => { const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' '); return (Number(f[11]) + Number(f[12])) * TICK_MS; };
const get = (port, p) => new Promise((resolve, reject) => {
  const t0 = performance.now();
  http.get({ host: '127.0.0.1', port, path: p, agent: false }, (res) => {
    let body = '';
    res.setEncoding('utf8').on('data', (c) => { body += c; }).on('end', () => resolve({ status: res.statusCode, body, ms: performance.now() - t0 }));
  }).on('error', reject);
});
const pct = (xs, q) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];

const [port, adminPort] = [await freePort(), await freePort()];
const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'shoal-scrape-'));
const primary = spawn(process.execPath, [path.join(root, 'dist/runtime/cli/main.js'), 'start', path.join(root, 'scripts/scrape-app.mjs'),
  '-w', '2', '-p', String(port), '--host', '127.0.0.1', '--admin', `127.0.0.1:${adminPort}`, '--name', 'scrape-cost'],
  { env: { ...process.env, SHOAL_RUNTIME_DIR: runDir }, stdio: ['ignore', 'pipe', 'inherit'] });
await new Promise((resolve) => { let out = ''; primary.stdout.on('data', (c) => { out += c; if (out.includes('"cluster ready"')) resolve(); }); });
const status = JSON.parse((await get(adminPort, '/status')).body);
const workers = status.workers.map((w) => w.pid);
const workersCpu = () => workers.reduce((a, pid) => a + cpuMs(pid), 0);

for (let i = 0; i < 20; i++) await get(port, '/');
await get(adminPort, '/metrics');
const first = (await get(adminPort, '/metrics')).body;

let w0 = workersCpu(); let p0 = cpuMs(primary.pid);
const idle = [];
for (let i = 0; i < N; i++) idle.push((await get(adminPort, '/metrics')).ms);
const idleWorkers = (workersCpu() - w0) / N; const idlePrimary = (cpuMs(primary.pid) - p0) / N;

const wrk = spawn('wrk', ['-t1', '-c50', '-d12s', `http://127.0.0.1:${port}/`], { stdio: ['ignore', 'pipe', 'inherit'] });
let wrkOut = ''; wrk.stdout.on('data', (c) => { wrkOut += c; });
await sleep(1000);
w0 = workersCpu(); await sleep(5000); const quietCpu = workersCpu() - w0;
const loaded = [];
w0 = workersCpu();
const t0 = performance.now();
for (let i = 0; i < 50; i++) { loaded.push((await get(adminPort, '/metrics')).ms); await sleep(Math.max(0, t0 + (i + 1) * 100 - performance.now())); }
const scrapeCpu = workersCpu() - w0;
await new Promise((r) => wrk.once('exit', r));
primary.kill('SIGTERM');

const f = (x) => x.toFixed(2);
console.log(`scrape body: ${Buffer.byteLength(first)} bytes, ${first.split('\n').filter((l) => l && !l.startsWith('#')).length} samples`);
console.log(`idle, ${N} scrapes: p50 ${f(pct(idle, 0.5))} ms, p99 ${f(pct(idle, 0.99))} ms; CPU per scrape: workers ${f(idleWorkers)} ms (both together), primary ${f(idlePrimary)} ms`);
console.log(`under wrk -t1 -c50, 50 scrapes 100 ms apart: p50 ${f(pct(loaded, 0.5))} ms, p99 ${f(pct(loaded, 0.99))} ms, max ${f(Math.max(...loaded))} ms`);
// Under saturation the workers' CPU is capped by the cores, so this compares throughput's share more than cost.
console.log(`workers' CPU over 5 s under load: ${quietCpu.toFixed(0)} ms without scrapes, ${scrapeCpu.toFixed(0)} ms with 50`);
console.log(`wrk: ${(/Requests\/sec:\s+([\d.]+)/.exec(wrkOut) ?? [])[1]} req/s`);
