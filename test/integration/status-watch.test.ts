/**
 * `shoal status --watch` through the real CLI: off a terminal a table per
 * second after a blank line, --json a reply per line, on a terminal (under
 * script(1)) redrawn in place; Ctrl-C ends it quietly (130), a cluster that
 * stops ends it with 1.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CLI, FIXTURES, runCli, startCluster, TEST_RUNTIME_DIR, type Cluster } from '../helpers/cluster.js';
import { spawnCli } from '../helpers/cli.js';

const app = path.join(FIXTURES, 'slow.mjs');
let cluster: Cluster | undefined;
afterEach(async () => { await cluster?.stop('SIGKILL'); cluster = undefined; });
const nameOf = (c: Cluster): string => `test-${c.port}`;

/** A table as `shoal status` prints it: the cluster line, the column names, one row per worker. */
const TABLE = (name: string): string => `cluster ${name}  primary pid \\d+ [^\\n]*\\nslot +id +pid +state[^\\n]*\\n1 +\\d+ +\\d+ +ready[^\\n]*\\n`;

const hasScript = spawnSync('script', ['--version']).status === 0;
if (!hasScript) console.warn('status-watch.test: skipping the terminal case: script(1) is not installed');

describe('shoal status --watch', () => {
  it('off a terminal: a table, then another after a blank line, about every second; Ctrl-C ends it quietly with 130', async () => {
    cluster = await startCluster(app, { workers: 1 });
    const w = spawnCli(['status', '--watch', '--name', nameOf(cluster)]);
    const t0 = Date.now();
    await w.waitForOutput(new RegExp(`^${TABLE(nameOf(cluster))}\\n${TABLE(nameOf(cluster))}`), 3_000);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
    w.proc.kill('SIGINT');
    expect(await w.ended).toEqual({ code: 130, signal: null });
    expect(w.stderr()).toBe('');
    expect(w.stdout()).toMatch(new RegExp(`^(${TABLE(nameOf(cluster))}\\n)*${TABLE(nameOf(cluster))}$`));
  });

  it('--json: one status reply per line', async () => {
    cluster = await startCluster(app, { workers: 1 });
    const w = spawnCli(['status', '--watch', '--json', '--name', nameOf(cluster)]);
    await w.waitForOutput(/^(\{.*\}\n){2}/, 3_000);
    w.proc.kill('SIGINT');
    expect((await w.ended).code).toBe(130);
    for (const l of w.stdout().trim().split('\n')) expect(JSON.parse(l)).toMatchObject({ ok: true, primary: { name: nameOf(cluster) }, workers: [{ state: 'ready' }] });
  });

  it('the cluster stops: it says so and exits 1', async () => {
    cluster = await startCluster(app, { workers: 1 });
    const w = spawnCli(['status', '--watch', '--name', nameOf(cluster)]);
    await w.waitForOutput(/ready/);
    expect((await runCli(['stop', '--name', nameOf(cluster)])).code).toBe(0);
    expect(await w.ended).toEqual({ code: 1, signal: null });
    expect(w.stderr()).toBe(`shoal: the cluster '${nameOf(cluster)}' stopped\n`);
  });

  it.skipIf(!hasScript)('on a terminal: the screen is cleared once, then each table is drawn over the last from the top', async () => {
    cluster = await startCluster(app, { workers: 1 });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shoal-watch-'));
    const code = path.join(dir, 'code');
    const line = `timeout --preserve-status -s INT 2.5 "${process.execPath}" "${CLI}" status --watch --name ${nameOf(cluster)}; echo $? > "${code}"`;
    const out = await new Promise<string>((resolve) => {
      const p = spawn('script', ['-qc', line, '/dev/null'], { env: { ...process.env, SHOAL_RUNTIME_DIR: TEST_RUNTIME_DIR, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'ignore'] });
      let s = '';
      p.stdout.setEncoding('utf8').on('data', (d: string) => { s += d; });
      p.once('exit', () => resolve(s));
    });
    expect(Number(fs.readFileSync(code, 'utf8'))).toBe(130);
    const frames = out.split('\x1b[H').slice(1);
    expect(frames.length).toBeGreaterThanOrEqual(2);
    expect(out.startsWith('\x1b[H\x1b[2J')).toBe(true);
    expect(out.split('\x1b[2J')).toHaveLength(2);
    for (const f of frames.slice(1)) {
      expect(f).toMatch(/^every 1 s: shoal status --name test-\d+ \(Ctrl-C to end\)  \d\d:\d\d:\d\d\x1b\[K\r\n\x1b\[K\r\ncluster /);
      expect(f.endsWith('\x1b[J')).toBe(true);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
