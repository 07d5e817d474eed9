/**
 * The app's output on its way through the primary, read from the primary's
 * own stdout and stderr: unchanged off a terminal (its JSON lines parse as
 * the app wrote them), tagged with --log-prefix or SHOAL_LOG_PREFIX=1, and
 * dropped, counted, when nobody reads the primary's stdout.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { controlRequest } from '../../runtime/control/client.js';
import { CLI, FIXTURES, freePort, onJsonLines, ROOT, startCluster, TEST_RUNTIME_DIR, type Cluster, type LogLine } from '../helpers/cluster.js';
import { request, waitFor } from '../helpers/http.js';

const app = path.join(FIXTURES, 'chatty.mjs');
let cluster: Cluster | undefined;
afterEach(async () => { await cluster?.stop('SIGKILL'); cluster = undefined; });

const started = (worker: string): string => JSON.stringify({ msg: 'chatty started', worker, quote: 'a "quoted" word' });
const jsonLine = (n: number): Record<string, unknown> => ({ n, worker: '1', text: 'line with\ttab' });
/** The app's lines among the primary's: the primary's own have a level. */
const appLines = (logs: LogLine[]): LogLine[] => logs.filter((l) => l.level === undefined);

describe("the app's output through the primary", () => {
  it('off a terminal, JSON lines pass unchanged and parse; a line written in pieces comes out whole; stderr is untagged', async () => {
    cluster = await startCluster(app, { workers: 1 });
    const c = cluster;
    await request(c.port, '/json?n=5');
    await request(c.port, '/partial?text=abcdef');
    await c.waitForLog((l) => l.msg === 'abcdef');
    expect(appLines(c.logs)).toEqual([JSON.parse(started('1')), ...[1, 2, 3, 4, 5].map(jsonLine), { msg: 'abcdef' }]);
    expect(c.stderr()).toBe('chatty: worker 1 stderr at start\n');
  });

  it.each([
    ['--log-prefix', { extraArgs: ['--log-prefix'] }],
    ['SHOAL_LOG_PREFIX=1', { env: { SHOAL_LOG_PREFIX: '1' } }],
  ])('%s tags every line with its worker: [w1] on stdout, [w1 err] on stderr', async (_how, opts) => {
    cluster = await startCluster(app, { workers: 1, ...opts });
    const c = cluster;
    await request(c.port, '/json?n=2');
    await c.waitForLog((l) => l.msg === `[w1] ${JSON.stringify(jsonLine(2))}`);
    expect(appLines(c.logs).map((l) => l.msg)).toEqual([`[w1] ${started('1')}`, ...[1, 2].map((n) => `[w1] ${JSON.stringify(jsonLine(n))}`)]);
    expect(c.stderr()).toBe('[w1 err] chatty: worker 1 stderr at start\n');
  });

  /** A cluster whose stdout nobody reads (yet), and 4 MB of app lines written into it: past the bound of 1 MiB. */
  async function unreadCluster(): Promise<{ proc: ReturnType<typeof spawn>; name: string; env: NodeJS.ProcessEnv; port: number; n: number }> {
    const port = await freePort();
    const name = `test-${port}`;
    const env = { ...process.env, SHOAL_RUNTIME_DIR: TEST_RUNTIME_DIR, NO_COLOR: '1' };
    const proc = spawn(process.execPath, [CLI, 'start', app, '--port', String(port), '--host', '127.0.0.1', '--workers', '1', '--name', name], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'ignore'] });
    const ready = async (): Promise<boolean> => {
      const r = await controlRequest(name, { cmd: 'status' }, () => {}, env).catch(() => undefined);
      return (r as { workers?: { state: string }[] } | undefined)?.workers?.[0]?.state === 'ready';
    };
    try {
      await waitFor(ready, 15_000, 'the cluster');
      const n = 20_000;
      expect((await request(port, `/many?n=${n}&size=200`, { timeoutMs: 20_000 })).status).toBe(200);
      return { proc, name, env, port, n };
    } catch (e) { proc.kill('SIGKILL'); throw e; }
  }

  it("nobody reads the primary's stdout: its own log lines never block it (a reload, which logs, runs to its end)", async () => {
    const { proc, name, env, port } = await unreadCluster();
    try {
      // A reload logs several lines of the primary's own while the pipe is full. A synchronous
      // write would wait for a reader that never comes; the reload must end, and the new worker serve.
      const r = await controlRequest(name, { cmd: 'reload' }, () => {}, env);
      expect(r.ok).toBe(true);
      expect((await request(port, '/')).status).toBe(200);
      // Once read, the stream says how many of the primary's lines it dropped.
      const lines: LogLine[] = [];
      onJsonLines(proc.stdout!, (l) => lines.push(l));
      await waitFor(() => lines.some((l) => String(l.msg).startsWith('log lines dropped')), 15_000, 'the note of dropped log lines');
      expect(Number(lines.find((l) => String(l.msg).startsWith('log lines dropped'))!.lines)).toBeGreaterThan(0);
    } finally {
      proc.kill('SIGKILL');
    }
  });

  it("nobody reads the primary's stdout: app lines past the bound are dropped and counted, the primary keeps serving, shoal logs has them", async () => {
    const { proc, name, env, n } = await unreadCluster();
    try {
      await waitFor(async () => {
        const t: string[] = [];
        await controlRequest(name, { cmd: 'logs', lines: 1 }, (e) => t.push(String(e.line)), env);
        return t[0]?.startsWith(`many ${n} `) === true;
      }, 15_000, 'the last line in the buffer');
      // Now read: what passed, and the note of what did not.
      const lines: LogLine[] = [];
      onJsonLines(proc.stdout!, (l) => lines.push(l));
      const notes = (): LogLine[] => lines.filter((l) => String(l.msg).startsWith('app output dropped'));
      const dropped = (): number => notes().reduce((s, l) => s + Number(l.lines), 0);
      const passed = (): LogLine[] => lines.filter((l) => String(l.msg).startsWith('many '));
      await waitFor(() => dropped() + passed().length === n, 15_000, 'every line passed or counted as dropped');
      expect(dropped()).toBeGreaterThan(0);
      expect(notes()[0]).toMatchObject({
        level: 40, stream: 'stdout', msg: "app output dropped: the primary's stdout was not read fast enough (the lines are still in 'shoal logs')",
      });
      // Whole lines only: every app line that came through is one the app wrote.
      expect(passed().every((l) => /^many \d+ \.+$/.test(String(l.msg)) && String(l.msg).length === 199)).toBe(true);
    } finally {
      proc.kill('SIGKILL');
    }
  });
});
