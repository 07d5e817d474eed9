#!/usr/bin/env node
// `npm run bench [-- --quick] [-- --runs N]`: the cluster benchmark (run.mjs,
// BENCHMARKS.md), then the session benchmark (sessions.mjs,
// BENCHMARKS-sessions.md), each given the flags both understand. npm appends
// `-- args` to the last command of a script only, hence this file.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const shared = [];
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  if (argv[i] === '--quick') shared.push('--quick');
  else if (argv[i] === '--runs' && argv[i + 1] !== undefined) shared.push('--runs', argv[++i]);
  else {
    console.error(`bench: unknown option ${argv[i]}; npm run bench takes --quick and --runs N (run scripts/bench/run.mjs or sessions.mjs directly for the rest)`);
    process.exit(2);
  }
}
for (const script of ['run.mjs', 'sessions.mjs']) {
  const r = spawnSync(process.execPath, [join(here, script), ...shared], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
