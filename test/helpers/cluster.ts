/**
 * Starts a real shoal cluster (the built CLI, real processes, real sockets)
 * for integration tests, and reads its JSON log lines.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { controlRequest } from '../../runtime/control/client.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const CLI = path.join(ROOT, 'dist/runtime/cli/main.js');
export const FIXTURES = path.join(ROOT, 'test/fixtures');

/**
 * Control sockets of test clusters go to a folder of this test process, never
 * to the user's own runtime folder (a test may kill a primary with SIGKILL).
 */
export const TEST_RUNTIME_DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'shoal-test-run-'));

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a !== null ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export interface LogLine { level?: number; msg?: string; [k: string]: unknown }

export interface Cluster {
  readonly port: number;
  readonly proc: ChildProcess;
  readonly logs: LogLine[];
  /** Raw stderr text. */
  stderr(): string;
  /** Resolves with the first log line (past or future) matching `pred`. */
  waitForLog(pred: (l: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** Sends `signal` (default SIGTERM) and resolves with how the primary exited. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves when the primary exits. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface StartOptions {
  workers?: number;
  port?: number;
  balancer?: string;
  extraArgs?: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Wait for the "cluster ready" log line (default true). */
  waitReady?: boolean;
  readyTimeoutMs?: number;
  /** Start the primary as the leader of its own process group (as a shell does), so a test can signal the group. */
  ownGroup?: boolean;
  /** Pass no --name (default: --name test-<port>), so the name comes from the config file or the entry's folder. */
  defaultName?: boolean;
  /** Pass no --port: shoal serves the port the app asks for (`port` is then only the cluster's name and the port the test expects). */
  noPort?: boolean;
  /** A command that execs the primary, e.g. ['taskset', '-c', '0'] to give it one CPU (the pid stays the primary's). */
  via?: string[];
}

/** Each line of a stream of JSON log lines, parsed (a line that is not JSON comes as its msg). */
export function onJsonLines(stream: NodeJS.ReadableStream, each: (l: LogLine) => void): void {
  let buf = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    buf += chunk;
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      let parsed: LogLine;
      try { parsed = JSON.parse(line) as LogLine; } catch { parsed = { msg: line }; }
      each(parsed);
    }
  });
}

export async function startCluster(entry: string, opts: StartOptions = {}): Promise<Cluster> {
  const port = opts.port ?? (await freePort());
  const args = [CLI, 'start', entry, ...(opts.noPort ? [] : ['--port', String(port)]), '--workers', String(opts.workers ?? 2), '--host', '127.0.0.1'];
  if (opts.balancer) args.push('--balancer', opts.balancer);
  if (opts.defaultName !== true) args.push('--name', `test-${port}`);
  args.push(...(opts.extraArgs ?? []));
  const [command, ...prefix] = [...(opts.via ?? []), process.execPath];
  const proc = spawn(command!, [...prefix, ...args], {
    cwd: opts.cwd ?? ROOT,
    // No shutdown delay unless a test asks for one (off a terminal with --admin it would default to 5 s).
    env: { ...process.env, SHOAL_RUNTIME_DIR: TEST_RUNTIME_DIR, SHOAL_SHUTDOWN_DELAY: '0', ...opts.env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: opts.ownGroup === true,
  });
  const logs: LogLine[] = [];
  const waiters: { pred: (l: LogLine) => boolean; resolve: (l: LogLine) => void }[] = [];
  let err = '';
  onJsonLines(proc.stdout!, (parsed) => {
    logs.push(parsed);
    for (const w of [...waiters]) if (w.pred(parsed)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(parsed); }
  });
  proc.stderr!.setEncoding('utf8').on('data', (c: string) => { err += c; });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.once('exit', (code, signal) => resolve({ code, signal })));

  const waitForLog = (pred: (l: LogLine) => boolean, timeoutMs = 15_000): Promise<LogLine> => {
    const found = logs.find(pred);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`timed out waiting for a log line; stderr:\n${err}\nlogs:\n${logs.map((l) => JSON.stringify(l)).join('\n')}`)), timeoutMs);
      waiters.push({ pred, resolve: (l) => { clearTimeout(t); resolve(l); } });
      void exited.then(() => { clearTimeout(t); reject(new Error(`primary exited before the log line; stderr:\n${err}\nlogs:\n${logs.map((l) => JSON.stringify(l)).join('\n')}`)); });
    });
  };

  const cluster: Cluster = {
    port, proc, logs, exited, waitForLog,
    stderr: () => err,
    async stop(signal = 'SIGTERM', timeoutMs = 15_000) {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      const t = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
      const r = await exited;
      clearTimeout(t);
      return r;
    },
  };
  if (opts.waitReady !== false) {
    try {
      await waitForLog((l) => l.msg === 'cluster ready', opts.readyTimeoutMs ?? 20_000);
    } catch (e) {
      proc.kill('SIGKILL');
      throw e;
    }
  }
  return cluster;
}

/** Runs the CLI to completion (for bad-input tests). */
export function runCli(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; uid?: number; gid?: number } = {}):
  Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const ids = opts.uid === undefined ? {} : { uid: opts.uid, gid: opts.gid ?? opts.uid };
    const p = spawn(process.execPath, [CLI, ...args], { cwd: opts.cwd ?? ROOT, env: { ...process.env, SHOAL_RUNTIME_DIR: TEST_RUNTIME_DIR, ...opts.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'], ...ids });
    let stdout = '';
    let stderr = '';
    p.stdout.setEncoding('utf8').on('data', (c: string) => { stdout += c; });
    p.stderr.setEncoding('utf8').on('data', (c: string) => { stderr += c; });
    const t = setTimeout(() => p.kill('SIGKILL'), opts.timeoutMs ?? 20_000);
    p.once('exit', (code, signal) => { clearTimeout(t); resolve({ code, signal, stdout, stderr }); });
  });
}

/**
 * Whether a process is running. A zombie counts as dead: once its parent
 * (the primary) is gone, an exited worker may stay a zombie until an init
 * that reaps gets to it, and kill(pid, 0) still succeeds on it.
 */
export function isAlive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) [ZX]/s.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

export interface ClusterStatus {
  primary: { pid: number; queued: number; unacknowledged: number; [k: string]: unknown };
  workers: { slot: number; id: number | null; pid: number | null; state: string; inflight: number; connections: number; [k: string]: unknown }[];
}

/** The cluster's status, read over its control socket. */
export async function clusterStatus(c: Cluster): Promise<ClusterStatus> {
  const r = await controlRequest(`test-${c.port}`, { cmd: 'status' }, () => {}, { ...process.env, SHOAL_RUNTIME_DIR: TEST_RUNTIME_DIR });
  if (!r.ok) throw new Error(`status failed: ${r.error}`);
  return r as unknown as ClusterStatus;
}

/** Polls the status until `pred` holds (a condition, not a guess at how long things take). */
export async function waitForStatus(c: Cluster, pred: (s: ClusterStatus) => boolean, what: string, timeoutMs = 10_000): Promise<ClusterStatus> {
  const t0 = Date.now();
  for (;;) {
    const s = await clusterStatus(c);
    if (pred(s)) return s;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}; last status: ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, STATUS_POLL_MS));
  }
}
const STATUS_POLL_MS = 20;

/** Resolves once the cluster's workers have at least `n` requests in flight between them. */
export const waitForInflight = (c: Cluster, n: number): Promise<ClusterStatus> =>
  waitForStatus(c, (s) => s.workers.reduce((a, w) => a + w.inflight, 0) >= n, `${n} requests in flight`);

/** Resolves once none of `pids` runs any more; rejects after `timeoutMs`. */
export async function waitUntilGone(pids: number[], timeoutMs = 3_000): Promise<void> {
  const t0 = Date.now();
  while (pids.some(isAlive)) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`processes still running after ${timeoutMs} ms: ${pids.filter(isAlive).join(', ')}`);
    await new Promise((r) => setTimeout(r, STATUS_POLL_MS));
  }
}
