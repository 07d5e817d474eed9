import { describe, expect, it } from 'vitest';
import { GLOBAL_FLAGS, parseArgs, START_FLAGS } from '../../runtime/cli/args.js';
import { defaultName, defaultShutdownDelay, parsePort, parseSize, parseWorkers, startOptions } from '../../runtime/cli/config.js';
import { FIXTURES } from '../helpers/cluster.js';
import { restartDelay } from '../../runtime/primary/backoff.js';
import { prettyLine } from '../../runtime/log.js';

const spec = (cmd: string | undefined) => (cmd === 'start' ? START_FLAGS : GLOBAL_FLAGS);

describe('argument parsing', () => {
  it.each([
    [['start', 'app.js'], { command: 'start', positionals: ['app.js'], flags: {}, rest: [] }],
    [['start', 'app.js', '-w', '4', '--port=8080'], { command: 'start', positionals: ['app.js'], flags: { workers: '4', port: '8080' }, rest: [] }],
    [['start', 'app.js', '--wait-ready', '--', '--app-flag', 'x'], { command: 'start', positionals: ['app.js'], flags: { 'wait-ready': true }, rest: ['--app-flag', 'x'] }],
    [['--version'], { command: undefined, positionals: [], flags: { version: true }, rest: [] }],
  ])('%j', (argv, expected) => { expect(parseArgs(argv, spec)).toEqual(expected); });

  it.each([
    [['start', 'app.js', '--nope'], /unknown option --nope/],
    [['start', 'app.js', '--port'], /--port needs a value/],
    [['start', 'app.js', '--port', '--workers', '2'], /--port needs a value/],
    [['start', 'app.js', '--wait-ready=yes'], /invalid value 'yes' for --wait-ready/],
    [['--workers', '2'], /unknown option --workers/],
  ])('%j is refused', (argv, err) => { expect(() => parseArgs(argv, spec)).toThrow(err); });

  it('parses workers and ports strictly', () => {
    expect(parseWorkers('3')).toBe(3);
    expect(parseWorkers('max')).toBeGreaterThanOrEqual(1);
    for (const bad of ['0', '-1', '1.5', 'two', '']) expect(() => parseWorkers(bad)).toThrow(/--workers/);
    expect(parsePort('0')).toBe(0);
    for (const bad of ['65536', '-1', 'http', '80.5']) expect(() => parsePort(bad)).toThrow(/--port/);
  });

  it('names a cluster after the entry folder', () => {
    expect(defaultName('/srv/my-shop/server.js')).toBe('my-shop');
    expect(defaultName('/srv/my shop!/server.js')).toBe('my-shop-');
  });
});

describe('shutdown delay and agent options', () => {
  const opts = (argv: string[], env: NodeJS.ProcessEnv = {}, terminal = false) =>
    startOptions(parseArgs(['start', 'http-esm.mjs', ...argv], spec), env, FIXTURES, terminal);

  it('takes --shutdown-delay and --agent from flags, then env', () => {
    const o = opts(['--shutdown-delay', '2500', '--agent', '9091']);
    expect(o.shutdownDelayMs).toBe(2500);
    expect(o.agent).toEqual({ host: '127.0.0.1', port: 9091 });
    const e = opts([], { SHOAL_SHUTDOWN_DELAY: '700', SHOAL_AGENT: '0.0.0.0:9092' });
    expect(e.shutdownDelayMs).toBe(700);
    expect(e.agent).toEqual({ host: '0.0.0.0', port: 9092 });
    expect(() => opts(['--shutdown-delay', '1s'])).toThrow(/--shutdown-delay/);
    expect(() => opts(['--agent', 'x:y'])).toThrow(/--agent/);
  });

  it('defaults the delay to 0 on a terminal or when no balancer can see the stop, else 5 s', () => {
    expect(defaultShutdownDelay(true, true)).toBe(0);
    expect(defaultShutdownDelay(false, false)).toBe(0);
    expect(defaultShutdownDelay(false, true)).toBe(5000);
    expect(opts(['--agent', '9091'], {}, true).shutdownDelayMs).toBe(0);
    expect(opts(['--agent', '9091']).shutdownDelayMs).toBe(5000);
    expect(opts([]).shutdownDelayMs).toBe(0);
  });
});

describe('restart backoff', () => {
  it.each([[1, 100], [2, 200], [3, 400], [5, 1600], [10, 15000], [100, 15000]])('attempt %i waits %i ms', (attempt, ms) => {
    expect(restartDelay(attempt, 100, 15_000)).toBe(ms);
  });
});

describe('pretty logs', () => {
  it('prints level, message and fields on one line', () => {
    const line = prettyLine(JSON.stringify({ level: 40, time: 0, pid: 1, msg: 'worker exited', worker: 2, signal: 'SIGKILL' }), false);
    expect(line).toBe('00:00:00.000 WARN  worker exited  worker=2 signal=SIGKILL\n');
  });
});

describe('sizes', () => {
  it.each([['1024', 1024], ['512M', 512 * 1024 ** 2], ['1G', 1024 ** 3], ['1.5g', 1.5 * 1024 ** 3], ['64KiB', 65536], ['100mb', 100 * 1024 ** 2]])('%s -> %i bytes', (v, n) => {
    expect(parseSize(v)).toBe(n);
  });
  it.each(['', 'lots', '-1M', '1T', 'M'])('%j is refused', (v) => { expect(() => parseSize(v)).toThrow(/--max-memory/); });
});
