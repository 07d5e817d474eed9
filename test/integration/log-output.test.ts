/**
 * The app's output on its way through the primary, read from the primary's
 * own stdout and stderr: unchanged off a terminal (its JSON lines parse as
 * the app wrote them), tagged with --log-prefix or SHOAL_LOG_PREFIX=1.
 */
import { afterEach, describe, expect, it } from 'vitest';
import path from 'node:path';
import { FIXTURES, startCluster, type Cluster, type LogLine } from '../helpers/cluster.js';
import { request } from '../helpers/http.js';

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
});
