/**
 * What the control commands print, through the real CLI against a real
 * cluster: into a pipe its reader has closed, and with --json.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CLI, FIXTURES, runCli, startCluster, TEST_RUNTIME_DIR, type Cluster } from '../helpers/cluster.js';

const app = path.join(FIXTURES, 'slow.mjs');
let cluster: Cluster | undefined;
let tmp: string;
beforeAll(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'shoal-output-')); });
afterAll(() => { fs.rmSync(tmp, { recursive: true, force: true }); });
afterEach(async () => { await cluster?.stop('SIGKILL'); cluster = undefined; });

const cliEnv = { ...process.env, SHOAL_RUNTIME_DIR: TEST_RUNTIME_DIR, NO_COLOR: '1' };
/** What a shell reports for a process killed by SIGPIPE, which is what shoal exits with. */
const CLOSED_PIPE = 141;

interface Ended { code: number | null; stdout: string; stderr: string }

/** Runs a shell command line to completion. */
function sh(line: string): Promise<Ended> {
  return new Promise((resolve) => {
    const p = spawn('sh', ['-c', line], { env: cliEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.setEncoding('utf8').on('data', (c: string) => { stdout += c; });
    p.stderr.setEncoding('utf8').on('data', (c: string) => { stderr += c; });
    p.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('a closed pipe', () => {
  it('status into a pipe whose reader is gone ends quietly with 141', async () => {
    cluster = await startCluster(app, { workers: 1 });
    const p = spawn(process.execPath, [CLI, 'status', '--name', `test-${cluster.port}`], { env: cliEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    // The reader closes its end before the CLI can write anything: its first write meets a closed pipe.
    p.stdout.destroy();
    let stderr = '';
    p.stderr.setEncoding('utf8').on('data', (c: string) => { stderr += c; });
    const code = await new Promise<number | null>((resolve) => p.once('exit', resolve));
    expect(stderr).toBe('');
    expect(code).toBe(CLOSED_PIPE);
  });

  it('shoal reload | head -1: one line, no trace, exit 141; the reload still completes in the primary', async () => {
    cluster = await startCluster(app, { workers: 2 });
    const c = cluster;
    const [err, code] = [path.join(tmp, 'stderr'), path.join(tmp, 'code')];
    // head exits after the first progress line; the next one comes when a new worker is ready.
    const r = await sh(`("${process.execPath}" "${CLI}" reload --name test-${c.port} 2>"${err}"; echo $? >"${code}") | head -1`);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^slot 1: starting a new worker \(replacing worker 1\)\n$/);
    expect(fs.readFileSync(err, 'utf8')).toBe('');
    expect(Number(fs.readFileSync(code, 'utf8'))).toBe(CLOSED_PIPE);
    expect(await c.waitForLog((l) => l.msg === 'reload done')).toMatchObject({ replaced: 2, workers: 2 });
  });
});

interface JsonError { ok: false; error: { code: string; message: string } }

/** The one line a --json command prints on stdout for a failure; stderr stays empty. */
function jsonError(r: { stdout: string; stderr: string }): JsonError {
  expect(r.stderr).toBe('');
  const lines = r.stdout.trim().split('\n');
  expect(lines.at(-1)).toMatch(/^\{"ok":false,"error":\{"code":"SHOAL_ERR_[A-Z_]+","message":/);
  return JSON.parse(lines.at(-1)!) as JsonError;
}

describe('--json: every control command prints JSON whatever happens, and keeps its exit code', () => {
  it.each([
    [['status', '--json', '--bogus'], 'SHOAL_ERR_UNKNOWN_FLAG', /unknown option --bogus/],
    [['scale', '--json'], 'SHOAL_ERR_BAD_VALUE', /invalid value '\(nothing\)' for scale/],
    [['reload', '--json', '--parallel', '0'], 'SHOAL_ERR_BAD_VALUE', /for --parallel/],
    [['stop', '--json', '--name'], 'SHOAL_ERR_MISSING_VALUE', /--name needs a value/],
    [['status', '--json', 'extra'], 'SHOAL_ERR_BAD_VALUE', /no arguments/],
  ])('usage error %j: exit 2', async (args, code, message) => {
    const r = await runCli(args);
    expect(r.code).toBe(2);
    expect(jsonError(r).error).toMatchObject({ code, message: expect.stringMatching(message) });
  });

  it.each([[['status']], [['reload']], [['scale', '2']], [['stop']]])('no cluster running, %j: exit 1, and the message names no cluster', async (args) => {
    const empty = fs.mkdtempSync(path.join(tmp, 'run-'));
    const r = await runCli([...args, '--json'], { env: { SHOAL_RUNTIME_DIR: empty } });
    expect(r.code).toBe(1);
    expect(jsonError(r).error).toEqual({
      code: 'SHOAL_ERR_NO_CLUSTER',
      message: `no shoal cluster is running (no control socket in ${empty}); start one with 'shoal start <entry>'`,
    });
  });

  it('a failure reply from the primary has the same shape: a refused scale (exit 2), status --cluster without Redis (exit 1)', async () => {
    cluster = await startCluster(app, { workers: 1 });
    const name = `test-${cluster.port}`;
    const zero = await runCli(['scale', '0', '--json', '--name', name]);
    expect(zero.code).toBe(2);
    expect(jsonError(zero).error).toMatchObject({ code: 'SHOAL_ERR_BAD_VALUE', message: expect.stringMatching(/invalid value '0' for scale/) });
    const hosts = await runCli(['status', '--cluster', '--json', '--name', name]);
    expect(hosts.code).toBe(1);
    expect(jsonError(hosts).error).toMatchObject({ code: 'SHOAL_ERR_NO_REDIS' });
    // Success is unchanged: the reply itself.
    const ok = await runCli(['scale', '2', '--json', '--name', name]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)).toEqual({ ok: true, from: 1, to: 2 });
  });
});

describe('no cluster running, without --json', () => {
  it('without --name, the message says no cluster is running; with one, it names it and the clusters that do run', async () => {
    const own = fs.mkdtempSync(path.join(tmp, 'run-'));
    const none = await runCli(['status'], { env: { SHOAL_RUNTIME_DIR: own } });
    expect(none.code).toBe(1);
    expect(none.stderr).toBe(`shoal: no shoal cluster is running (no control socket in ${own}); start one with 'shoal start <entry>'\n`);
    cluster = await startCluster(app, { workers: 1, env: { SHOAL_RUNTIME_DIR: own } });
    const named = await runCli(['status', '--name', 'shop'], { env: { SHOAL_RUNTIME_DIR: own } });
    expect(named.code).toBe(1);
    expect(named.stderr).toBe(`shoal: no shoal cluster named 'shop' is running (no control socket shop.sock in ${own}); running: test-${cluster.port}, pick one with --name\n`);
  });
});
