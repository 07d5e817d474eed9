/**
 * Bad input through the real CLI: one clear line naming the problem and the
 * fix, exit code 2 for usage errors, no stack trace unless --verbose.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { CLI, FIXTURES, freePort, runCli } from '../helpers/cluster.js';

const app = path.join(FIXTURES, 'slow.mjs');
let tmp: string;
let busy: net.Server;
let busyPort: number;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'shoal-cli-'));
  fs.chmodSync(tmp, 0o755);
  fs.writeFileSync(path.join(tmp, 'unreadable.js'), 'console.log(1)');
  fs.chmodSync(path.join(tmp, 'unreadable.js'), 0o000);
  busy = net.createServer();
  await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
  busyPort = (busy.address() as net.AddressInfo).port;
});
afterAll(() => { busy.close(); fs.rmSync(tmp, { recursive: true, force: true }); });

// Permission errors cannot happen to root, and CI runs as root: there, these cases run as 'nobody'.
// That needs the checkout to be readable by 'nobody' (it is under /work); where it is not, the
// two cases are reported as skipped with the reason, never passed.
const root = process.getuid?.() === 0;
// 'nobody' gets a runtime folder of its own for the control socket.
const nobodyRun = fs.mkdtempSync(path.join(os.tmpdir(), 'shoal-nobody-'));
if (root) fs.chownSync(nobodyRun, 65534, 65534);
const unprivileged = root ? { uid: 65534, gid: 65534, env: { SHOAL_RUNTIME_DIR: nobodyRun } } : {};
const nobodyCanRun = !root || spawnSync(process.execPath, [CLI, '--version'], { uid: 65534, gid: 65534 }).status === 0;
if (!nobodyCanRun) console.warn('cli.test: skipping the permission cases: user nobody cannot read this checkout');

describe('bad input', () => {
  const cases: { name: string; args: () => string[]; code: number; match: RegExp; skip?: boolean }[] = [
    { name: 'unknown flag', args: () => ['start', app, '--wrokers', '2'], code: 2, match: /unknown option --wrokers; run 'shoal start --help' for the list of options/ },
    { name: 'unknown flag before the command', args: () => ['--wrokers', 'start', app], code: 2, match: /unknown option --wrokers; run 'shoal --help' for the list of options/ },
    { name: 'unknown command with a flag', args: () => ['strat', '--workers', '2'], code: 2, match: /unknown command 'strat'/ },
    { name: 'unknown command', args: () => ['strat', app], code: 2, match: /unknown command 'strat'/ },
    { name: 'missing entry', args: () => ['start'], code: 2, match: /missing the app entry file.*shoal start <entry>/ },
    { name: 'entry not found', args: () => ['start', 'nope/app.js'], code: 2, match: /entry file not found: .*nope\/app\.js/ },
    { name: 'entry is a folder', args: () => ['start', FIXTURES], code: 2, match: /entry file cannot be read: .*not a file/ },
    { name: 'unknown balancer', args: () => ['start', app, '--balancer', 'fastest'], code: 2, match: /unknown balancer 'fastest'; choose one of: least-conn, round-robin/ },
    { name: '--workers 0', args: () => ['start', app, '--workers', '0'], code: 2, match: /invalid value '0' for --workers: expected a whole number of at least 1, or "max"/ },
    { name: '--workers abc', args: () => ['start', app, '--workers', 'abc'], code: 2, match: /invalid value 'abc' for --workers/ },
    { name: '--port without value', args: () => ['start', app, '--port'], code: 2, match: /option --port needs a value/ },
    { name: '--max-sessions 0', args: () => ['start', app, '--max-sessions', '0'], code: 2, match: /invalid value '0' for --max-sessions: expected a whole number of at least 1/ },
    { name: '--max-session-memory lots', args: () => ['start', app, '--max-session-memory', 'lots'], code: 2, match: /invalid value 'lots' for --max-session-memory: expected a size such as 512M/ },
    { name: '--redis-queue-max 0', args: () => ['start', app, '--redis-queue-max', '0'], code: 2, match: /invalid value '0' for --redis-queue-max: expected a whole number of at least 1/ },
    { name: '--redis-queue-memory lots', args: () => ['start', app, '--redis-queue-memory', 'lots'], code: 2, match: /invalid value 'lots' for --redis-queue-memory: expected a size such as 512M/ },
    { name: '--port out of range', args: () => ['start', app, '--port', '70000'], code: 2, match: /invalid value '70000' for --port/ },
    { name: 'port in use', args: () => ['start', app, '--port', String(busyPort), '--host', '127.0.0.1', '--workers', '1'], code: 2, match: /port 127\.0\.0\.1:\d+ is already in use; stop what listens there or pick another with --port/ },
  ];
  it.each(cases)('$name', async ({ args, code, match }) => {
    const r = await runCli(args());
    expect(r.code).toBe(code);
    expect(r.stderr).toMatch(match);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it.runIf(nobodyCanRun)('unreadable entry', async () => {
    const r = await runCli(['start', path.join(tmp, 'unreadable.js')], unprivileged);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cannot be read.*EACCES/);
  });

  it.runIf(nobodyCanRun)('privileged port', async () => {
    const r = await runCli(['start', app, '--port', '80', '--workers', '1'], unprivileged);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/not permitted to listen on \*:80/);
  });

  it('--verbose adds the stack trace', async () => {
    const r = await runCli(['start', app, '--workers', '0', '--verbose']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/\n\s+at /);
  });

  it('--config naming a file that is not there says so, with the path and what to do', async () => {
    const r = await runCli(['start', app, '--config', 'missing.json'], { cwd: tmp });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`shoal: config file not found: ${path.join(fs.realpathSync(tmp), 'missing.json')}; check the path given to --config (it is resolved from the current folder), or leave --config out to use ./shoal.config.json when there is one\n`);
  });

  it('a bad shoal.config.json is named with what is wrong', async () => {
    fs.writeFileSync(path.join(tmp, 'shoal.config.json'), '{"workers": 2, "balancr": "x"}');
    const r = await runCli(['start', app], { cwd: tmp });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/shoal\.config\.json is invalid: unknown key "balancr"/);
  });

  it('an entry that throws at start-up is reported with its error once, and shoal exits 1 without spinning', async () => {
    const port = await freePort();
    const t0 = Date.now();
    const r = await runCli(['start', path.join(FIXTURES, 'throws.mjs'), '--workers', '2', '--port', String(port)]);
    expect(r.code).toBe(1);
    expect(r.stderr.match(/database url is missing/g)?.length ?? 0).toBeGreaterThanOrEqual(1);
    // The app's stack is printed once, not once per worker or retry.
    expect(r.stderr.match(/Error: database url is missing/g)).toHaveLength(1);
    expect(r.stderr).toMatch(/shoal: the app failed to start: database url is missing/);
    expect(r.stdout.match(/worker forked/g)?.length ?? 0).toBeLessThanOrEqual(2);
    expect(Date.now() - t0).toBeLessThan(15_000);
  });

  it('an app that listens on another port is named in the error', async () => {
    const [port, wrong] = [await freePort(), await freePort()];
    const r = await runCli(['start', path.join(FIXTURES, 'wrong-port.mjs'), '--workers', '1', '--port', String(port), '--ready-timeout', '1500'], {
      env: { WRONG_PORT: String(wrong) },
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`never listened on port ${port} \\(it listened on ${wrong}\\); make it call listen\\(process.env.PORT\\)`));
  });
});

describe('help', () => {
  it('shoal start --help shows start\'s usage and options only; shoal help reload and reload --help show reload\'s', async () => {
    const r = await runCli(['start', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: shoal start <entry> \[options\] \[-- app args\]\n/);
    expect(r.stdout).toMatch(/^ {2}-w, --workers N\|max/m);
    expect(r.stdout).not.toMatch(/--parallel|--cluster|--no-install|shoal status/);
    const reload = await runCli(['help', 'reload']);
    expect(reload.code).toBe(0);
    expect(reload.stdout).toMatch(/^Usage: shoal reload \[--parallel K\]/);
    expect((await runCli(['reload', '--help'])).stdout).toBe(reload.stdout);
  });

  it('shoal --help shows the overview: every command, no option list', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    for (const c of ['start', 'status', 'reload', 'scale', 'stop', 'new']) expect(r.stdout).toMatch(new RegExp(`^ {2}shoal ${c} `, 'm'));
    expect(r.stdout).not.toMatch(/--workers N\|max +worker processes/);
  });

  it('help for an unknown command is a usage error', async () => {
    const r = await runCli(['help', 'strat']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^shoal: unknown command 'strat'/);
  });
});
