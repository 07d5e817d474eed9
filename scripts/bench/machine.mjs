// What the figures were measured on. Reads files only (no git commands: the
// HEAD commit is read from .git, and the working tree may differ from it).
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';

function version(pkgJson) {
  try {
    return JSON.parse(readFileSync(pkgJson, 'utf8')).version;
  } catch {
    return 'not installed';
  }
}

function headCommit(root) {
  try {
    const git = join(root, '.git');
    const head = readFileSync(join(git, 'HEAD'), 'utf8').trim();
    if (!head.startsWith('ref: ')) return head.slice(0, 10);
    const ref = head.slice(5);
    if (existsSync(join(git, ref))) return readFileSync(join(git, ref), 'utf8').trim().slice(0, 10);
    const packed = readFileSync(join(git, 'packed-refs'), 'utf8').split('\n').find((l) => l.endsWith(` ${ref}`));
    return packed ? packed.slice(0, 10) : 'unknown';
  } catch {
    return 'unknown';
  }
}

export function machineInfo({ root, benchDir, command, jsonPath }) {
  const cpus = os.cpus();
  return {
    date: new Date().toISOString(),
    command,
    jsonPath,
    cpu: cpus[0]?.model?.trim() ?? 'unknown',
    cores: os.availableParallelism(),
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    pm2: version(join(benchDir, 'node_modules/pm2/package.json')),
    autocannon: version(join(benchDir, 'node_modules/autocannon/package.json')),
    shoal: `${version(join(root, 'package.json'))} (HEAD ${headCommit(root)}; the working tree may differ)`,
  };
}
