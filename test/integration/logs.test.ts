/**
 * `shoal logs` against a real cluster of an app that prints: the last lines
 * tagged with worker and stream, --json, --worker, -f seeing a line printed
 * after it started and ending on Ctrl-C, a replaced worker's last lines,
 * the bounds, and a follower that does not read.
 */
import { afterEach, describe, expect, it } from 'vitest';
import net from 'node:net';
import path from 'node:path';
import { FIXTURES, runCli, startCluster, TEST_RUNTIME_DIR, waitForStatus, type Cluster } from '../helpers/cluster.js';
import { spawnCli } from '../helpers/cli.js';
import { request, waitFor } from '../helpers/http.js';

const app = path.join(FIXTURES, 'chatty.mjs');
let cluster: Cluster | undefined;
afterEach(async () => { await cluster?.stop('SIGKILL'); cluster = undefined; });

const nameOf = (c: Cluster): string => `test-${c.port}`;
const cli = (c: Cluster, ...args: string[]) => runCli([...args, '--name', nameOf(c)]);
interface LogEvent { event: string; worker: number; stream: string; t: number; line: string; cut?: boolean }
interface LogsReply { ok: true; lines: number; buffer: { lines: number; bytes: number; followers: number } }

/** `shoal logs --json`: the lines, and the final reply. */
async function logs(c: Cluster, ...args: string[]): Promise<{ events: LogEvent[]; reply: LogsReply }> {
  const r = await cli(c, 'logs', '--json', ...args);
  expect(r.code, r.stderr).toBe(0);
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  return { events: lines.slice(0, -1) as unknown as LogEvent[], reply: lines.at(-1) as unknown as LogsReply };
}
const print = (c: Cluster, stream: string, text: string) => request(c.port, `/print?stream=${stream}&text=${encodeURIComponent(text)}`);
/** Polls the kept lines until `pred` holds for them (the app's output reaches the primary through a pipe). */
async function until(c: Cluster, what: string, pred: (es: LogEvent[]) => boolean, ...args: string[]): Promise<LogEvent[]> {
  let last: LogEvent[] = [];
  await waitFor(async () => pred(last = (await logs(c, '-n', '100000', ...args)).events), 10_000, what);
  return last;
}

describe('shoal logs', () => {
  it('-n prints the last lines, tagged with time, worker and stream; --json the same as objects, then the reply', async () => {
    cluster = await startCluster(app, { workers: 2 });
    const c = cluster;
    await until(c, 'both workers started', (es) => es.filter((e) => e.stream === 'stderr').length === 2);
    await print(c, 'stderr', 'an error line');
    await print(c, 'stdout', 'the last line');
    await until(c, 'the printed lines', (es) => es.at(-1)?.line === 'the last line');
    const text = await cli(c, 'logs', '-n', '2');
    expect(text.code, text.stderr).toBe(0);
    expect(text.stderr).toBe('');
    expect(text.stdout).toMatch(/^\d\d:\d\d:\d\d\.\d{3} w[12] stderr \| an error line\n\d\d:\d\d:\d\d\.\d{3} w[12] stdout \| the last line\n$/);
    const { events, reply } = await logs(c, '-n', '2');
    expect(events.map((e) => [e.event, e.stream, e.line])).toEqual([['log', 'stderr', 'an error line'], ['log', 'stdout', 'the last line']]);
    expect(events[0]!.t).toBeGreaterThan(Date.now() - 60_000);
    expect(reply).toMatchObject({ ok: true, lines: 2 });
    // Without -n, the last 100 lines: here all six (a JSON line and a stderr line per worker, and the two above).
    expect((await logs(c)).events).toHaveLength(6);
  });

  it('--worker keeps one worker\'s lines (3 or w3); an unknown id is a usage error naming the known ones', async () => {
    cluster = await startCluster(app, { workers: 2 });
    const c = cluster;
    const all = await until(c, 'both workers started', (es) => es.length === 4);
    expect(new Set(all.map((e) => e.worker))).toEqual(new Set([1, 2]));
    for (const id of ['2', 'w2']) expect((await logs(c, '--worker', id)).events.map((e) => [e.worker, e.stream])).toEqual([[2, 'stdout'], [2, 'stderr']]);
    const bad = await cli(c, 'logs', '--worker', '9');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe("shoal: no lines of worker 9 are kept in this cluster (workers with lines: 1, 2 running); 'shoal status' shows the running workers' ids\n");
  });

  it('-f prints a line printed after it started; Ctrl-C ends it quietly with 130, and the primary stops sending', async () => {
    cluster = await startCluster(app, { workers: 1 });
    const c = cluster;
    await until(c, 'the worker started', (es) => es.length === 2);
    const f = spawnCli(['logs', '-f', '-n', '1', '--name', nameOf(c)]);
    await f.waitForOutput(/stderr \| chatty: worker 1 stderr at start\n/);
    await waitFor(async () => (await logs(c, '-n', '0')).reply.buffer.followers === 1, 5_000, 'the follower');
    await print(c, 'stdout', 'printed after -f started');
    await f.waitForOutput(/w1 stdout \| printed after -f started\n/);
    f.proc.kill('SIGINT');
    expect(await f.ended).toEqual({ code: 130, signal: null });
    expect(f.stderr()).toBe('');
    expect(f.stdout().split('\n')).toHaveLength(3);
    await waitFor(async () => (await logs(c, '-n', '0')).reply.buffer.followers === 0, 5_000, 'the primary to drop the follower');
  });

  it('the primary notices a follower that leaves, even one that sent more than its request', async () => {
    cluster = await startCluster(app, { workers: 1 });
    const c = cluster;
    const sock = net.connect(path.join(TEST_RUNTIME_DIR, `${nameOf(c)}.sock`));
    await new Promise((r) => sock.once('connect', r));
    sock.write(`{"cmd":"logs","lines":0,"follow":true}\n${'x'.repeat(200_000)}`);
    await waitFor(async () => (await logs(c, '-n', '0')).reply.buffer.followers === 1, 5_000, 'the follower');
    sock.destroy();
    await waitFor(async () => (await logs(c, '-n', '0')).reply.buffer.followers === 0, 5_000, 'the primary to drop the follower');
  });

  it('-f ends with exit 1 and says so when the cluster stops', async () => {
    cluster = await startCluster(app, { workers: 1 });
    const c = cluster;
    const f = spawnCli(['logs', '-f', '--json', '--name', nameOf(c)]);
    await waitFor(async () => (await logs(c, '-n', '0')).reply.buffer.followers === 1, 5_000, 'the follower');
    expect((await cli(c, 'stop')).code).toBe(0);
    expect(await f.ended).toEqual({ code: 1, signal: null });
    expect(JSON.parse(f.stdout().trim().split('\n').at(-1)!)).toEqual({ ok: false, error: { code: 'SHOAL_ERR_CLUSTER_STOPPED', message: `the cluster '${nameOf(c)}' stopped` } });
  });

  it("a worker that died: its last lines are still there after its replacement took over", async () => {
    cluster = await startCluster(app, { workers: 1 });
    const c = cluster;
    await until(c, 'the worker started', (es) => es.length === 2);
    await request(c.port, '/exit');
    await waitForStatus(c, (s) => s.workers[0]!.id === 2 && s.workers[0]!.state === 'ready', 'the replacement');
    const old = await until(c, "worker 1's last line", (es) => es.some((e) => e.line === 'chatty: worker 1 exiting'), '--worker', '1');
    expect(old.map((e) => [e.stream, e.line])).toEqual([
      ['stdout', JSON.stringify({ msg: 'chatty started', worker: '1', quote: 'a "quoted" word' })],
      ['stderr', 'chatty: worker 1 stderr at start'],
      ['stderr', 'chatty: worker 1 exiting'],
    ]);
  });

  it('the buffer holds at most --log-lines lines and --log-memory bytes per worker, the newest', async () => {
    cluster = await startCluster(app, { workers: 1, extraArgs: ['--log-lines', '50', '--log-memory', '4K'] });
    const c = cluster;
    await request(c.port, '/many?n=500&size=20');
    let es = await until(c, 'line 500', (x) => x.at(-1)?.line.startsWith('many 500 ') === true);
    expect(es.map((e) => e.line.split(' ')[1])).toEqual(Array.from({ length: 50 }, (_x, i) => String(451 + i)));
    await request(c.port, '/many?n=500&size=200');
    es = await until(c, 'line 500 of 200 bytes', (x) => x.at(-1)?.line.length === 199 && x.at(-1)?.line.startsWith('many 500 ') === true);
    // 4096 bytes hold 20 lines of 199.
    expect(es).toHaveLength(20);
    expect((await logs(c, '-n', '0')).reply.buffer).toEqual({ lines: 20, bytes: 20 * 199, followers: 0 });
  });

  it('a follower that reads nothing costs the primary a bounded queue: the rest is dropped for it, and it is told how much', async () => {
    cluster = await startCluster(app, { workers: 1 });
    const c = cluster;
    const sock = net.connect(path.join(TEST_RUNTIME_DIR, `${nameOf(c)}.sock`));
    let got = '';
    sock.setEncoding('utf8').on('data', (d: string) => { got += d; });
    await new Promise((r) => sock.once('connect', r));
    sock.write('{"cmd":"logs","lines":0,"follow":true}\n');
    await waitFor(async () => (await logs(c, '-n', '0')).reply.buffer.followers === 1, 5_000, 'the follower');
    sock.pause();
    // 4 MB of lines, past the default follower bound of 1 MiB.
    const n = 20_000;
    await request(c.port, `/many?n=${n}&size=200`, { timeoutMs: 20_000 });
    await until(c, 'the last line in the buffer', (x) => x.at(-1)?.line.startsWith(`many ${n} `) === true, '-n', '1');
    sock.resume();
    const count = (): { lines: number; dropped: number } => {
      const events = got.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { event: string; lines?: number });
      return { lines: events.filter((e) => e.event === 'log').length, dropped: events.reduce((s, e) => s + (e.event === 'dropped' ? e.lines! : 0), 0) };
    };
    await waitFor(() => count().lines + count().dropped === n, 10_000, 'every line, sent or counted as dropped');
    expect(count().dropped).toBeGreaterThan(0);
    expect(count().lines).toBeLessThan(n);
    sock.destroy();
  });
});
