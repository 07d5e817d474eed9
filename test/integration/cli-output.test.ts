/**
 * What the control commands print, through the real CLI against a real
 * cluster: into a pipe its reader has closed, and with --json.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CLI, FIXTURES, startCluster, TEST_RUNTIME_DIR, type Cluster } from '../helpers/cluster.js';

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
