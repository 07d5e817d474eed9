// Measures what the shoal worker shim adds to a worker's start-up: fork to
// "the app's listen callback ran", for a hello-world node:http app, plain
// node versus node with the shim (--import, as the primary forks workers).
// Sequential forks, alternating variants, median of N (default 21).
// Usage: npm run build && node scripts/startup-cost.mjs [N]
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const app = path.join(root, 'scripts/startup-app.mjs');
const shim = new URL('../dist/runtime/worker/shim.js', import.meta.url).href;
const N = Number(process.argv[2] ?? 21);

function once(execArgv, env) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const c = fork(app, { execArgv, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
    c.stdout.once('data', () => { resolve(Number(process.hrtime.bigint() - t0) / 1e6); c.kill('SIGKILL'); });
    c.once('error', reject);
  });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const plain = [];
const shimmed = [];
for (let i = 0; i < N; i++) {
  plain.push(await once([], { PORT: '0' }));
  // With the shim, listen on SHOAL_PORT is intercepted (no bind), as in a real worker.
  shimmed.push(await once(['--import', shim], { PORT: '45999', SHOAL_PORT: '45999', SHOAL_WORKER_ID: '1' }));
}
const p = median(plain);
const s = median(shimmed);
console.log(`fork -> listening, median of ${N}: plain node ${p.toFixed(1)} ms, with shoal shim ${s.toFixed(1)} ms, shim cost ${(s - p).toFixed(1)} ms`);
