/**
 * A reload or scale whose new worker fails to start: the CLI names where the
 * app's code failed (file:line, its first stack frame, the source line) and
 * where the rest of the app's output is, through the real CLI against a
 * cluster whose code on disk is then broken for real.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FIXTURES, runCli, startCluster, type Cluster } from '../helpers/cluster.js';

const HINT = "  the app's full output is where 'shoal start' runs (the primary's terminal or log)";
let tmp: string;
let entry: string;
let cluster: Cluster | undefined;
beforeAll(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'shoal-app-failure-')); });
afterAll(() => { fs.rmSync(tmp, { recursive: true, force: true }); });
afterEach(async () => { await cluster?.stop('SIGKILL'); cluster = undefined; });

/** A cluster of a working app, whose entry file the test then replaces. */
async function running(workers = 1): Promise<Cluster> {
  entry = path.join(fs.mkdtempSync(path.join(tmp, 'app-')), 'server.mjs');
  fs.copyFileSync(path.join(FIXTURES, 'slow.mjs'), entry);
  cluster = await startCluster(entry, { workers });
  return cluster;
}
const cli = (c: Cluster, ...args: string[]) => runCli([...args, '--name', `test-${c.port}`], { timeoutMs: 30_000 });

const SYNTAX = "import http from 'node:http';\nconst x = 1;\nconst y = ;\n";
const THROWS = "import http from 'node:http';\nfunction connect() { throw new Error('database url is missing'); }\nconnect();\n";

describe('where the app failed', () => {
  it.each([
    ['a syntax error: the file and line', SYNTAX, "Unexpected token ';'", () => [`  at ${entry}:3`, '      const y = ;', '                ^']],
    ["a throw at start-up: the app's first stack frame", THROWS, 'database url is missing', () => [
      `  at connect (${entry}:2:28)`, "      function connect() { throw new Error('database url is missing'); }", '                                 ^']],
  ])('reload with %s, the source line under a caret, and where the full output is', async (_what, code, message, site) => {
    const c = await running();
    fs.writeFileSync(entry, code);
    const r = await cli(c, 'reload');
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n')).toEqual([`shoal: reload stopped, the old workers keep serving: ${message}`, ...site(), HINT, '']);
    // The primary, where the rest is, has node's own report of it.
    expect(c.stderr()).toContain(message);
  });

  it('scale up into broken code says the same, and --json carries it as error.app', async () => {
    const c = await running();
    fs.writeFileSync(entry, THROWS);
    const r = await cli(c, 'scale', '+1');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^shoal: the app failed to start: slot 2: database url is missing\n/);
    expect(r.stderr).toContain(`\n  at connect (${entry}:2:28)\n`);
    fs.writeFileSync(entry, SYNTAX);
    const j = await cli(c, 'reload', '--json');
    expect(j.code).toBe(1);
    expect(JSON.parse(j.stdout.trim().split('\n').at(-1)!)).toEqual({
      ok: false,
      error: {
        code: 'SHOAL_ERR_RELOAD_FAILED',
        message: "reload stopped, the old workers keep serving: Unexpected token ';'",
        app: { file: entry, line: 3, source: ['const y = ;', '          ^'] },
      },
    });
  });
});
