/**
 * A real HAProxy (Debian's package) running deploy/haproxy.cfg itself, its
 * "${NAME-default}" variables set to a test's ports, and its runtime API
 * (the stats socket) read as HAProxy's own tools do.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from './cluster.js';
import { waitFor } from './http.js';

export const HAPROXY_CFG = path.join(ROOT, 'deploy/haproxy.cfg');
const HAPROXY = ['/usr/sbin/haproxy', '/usr/bin/haproxy'].find((p) => fs.existsSync(p)) ?? 'haproxy';
const START_TIMEOUT_MS = 10_000;
const STATS_TIMEOUT_MS = 5_000;

export interface ServerStat { readonly status: string; readonly weight: number; readonly checkStatus: string; readonly agentStatus: string }

export interface Haproxy {
  readonly proc: ChildProcess;
  readonly port: number;
  /** HAProxy's own log lines (state changes, agent answers). */
  log(): string;
  /** One runtime API command's answer. */
  command(cmd: string): Promise<string>;
  /** `show stat` of the backend's servers by name. */
  servers(): Promise<Map<string, ServerStat>>;
  stop(): Promise<void>;
}

export async function startHaproxy(port: number, env: Record<string, string>): Promise<Haproxy> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shoal-haproxy-'));
  const stats = path.join(dir, 'admin.sock');
  const proc = spawn(HAPROXY, ['-db', '-f', HAPROXY_CFG], {
    env: { ...process.env, ...env, SHOAL_HAPROXY_STATS: stats, SHOAL_HAPROXY_BIND: `127.0.0.1:${port}` },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.setEncoding('utf8').on('data', (c: string) => { out += c; });
  proc.stderr!.setEncoding('utf8').on('data', (c: string) => { out += c; });
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  const command = (cmd: string): Promise<string> => new Promise((resolve, reject) => {
    const s = net.connect(stats);
    let d = '';
    s.setEncoding('utf8');
    s.on('connect', () => s.write(`${cmd}\n`));
    s.on('data', (c: string) => { d += c; });
    s.on('end', () => resolve(d));
    s.on('error', reject);
    s.setTimeout(STATS_TIMEOUT_MS, () => { s.destroy(); reject(new Error(`haproxy runtime API: no answer to '${cmd}'`)); });
  });
  await waitFor(() => fs.existsSync(stats) || proc.exitCode !== null, START_TIMEOUT_MS, 'haproxy stats socket');
  if (proc.exitCode !== null) throw new Error(`haproxy exited ${proc.exitCode}: ${out}`);
  return {
    proc, port, command,
    log: () => out,
    async servers() {
      const csv = (await command('show stat')).split('\n');
      const head = csv[0]!.replace(/^# /, '').split(',');
      const col = (name: string): number => head.indexOf(name);
      const rows = new Map<string, ServerStat>();
      for (const line of csv.slice(1)) {
        const f = line.split(',');
        if (f[col('pxname')] !== 'shoal' || ['FRONTEND', 'BACKEND'].includes(f[col('svname')]!)) continue;
        rows.set(f[col('svname')]!, { status: f[col('status')]!, weight: Number(f[col('weight')]), checkStatus: f[col('check_status')]!, agentStatus: f[col('agent_status')]! });
      }
      return rows;
    },
    async stop() {
      if (proc.exitCode === null) { proc.kill('SIGTERM'); await exited; }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A timing of the config file, e.g. `agent-inter` or `inter` from its default-server line, in ms. */
export function cfgTiming(key: string): number {
  const line = fs.readFileSync(HAPROXY_CFG, 'utf8').split('\n').find((l) => /^\s*default-server\b/.test(l));
  const m = line && new RegExp(`\\s${key}\\s+(\\d+)(ms|s)?\\b`).exec(line);
  if (!m) throw new Error(`deploy/haproxy.cfg: no ${key} on its default-server line`);
  return Number(m[1]) * (m[2] === 's' ? 1000 : 1);
}
