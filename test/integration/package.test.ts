/**
 * shoal's package as `npm pack` makes it and a user installs it: it ships its
 * licence, and installing the tarball runs none of shoal's scripts (npm
 * names the scripts of the packages it installs, so none of shoal's may be
 * an install-time one: the build is `prepack`, run by `npm pack`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from '../helpers/cluster.js';

// A real npm install, from the registry or npm's cache.
const SLOW = 180_000;
let tmp: string;
beforeAll(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'shoal-package-')); });
afterAll(() => { fs.rmSync(tmp, { recursive: true, force: true }); });

function npm(args: string[], cwd: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    // Without what the outer `npm test` sets for this process (npm_config_*, npm_lifecycle_*).
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
    const p = spawn('npm', args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.setEncoding('utf8').on('data', (c: string) => { out += c; });
    p.stderr.setEncoding('utf8').on('data', (c: string) => { out += c; });
    p.once('exit', (code) => resolve({ code, out }));
  });
}

describe('the packed package', () => {
  it('has the MIT LICENSE, and installing it prints nothing about a script of shoal\'s', async () => {
    // dist/ is built already (npm test builds first): pack it as it is.
    const packed = await npm(['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], ROOT);
    expect(packed.code, packed.out).toBe(0);
    const { filename, files } = (JSON.parse(packed.out.slice(packed.out.indexOf('['))) as [{ filename: string; files: { path: string }[] }])[0];
    expect(files.map((f) => f.path)).toContain('LICENSE');
    expect(fs.readFileSync(path.join(ROOT, 'LICENSE'), 'utf8')).toMatch(/^MIT License\n\nCopyright \(c\) 2026 the shoal developers\n/);

    const app = path.join(tmp, 'app');
    fs.mkdirSync(app);
    fs.writeFileSync(path.join(app, 'package.json'), '{"name":"app","version":"1.0.0","private":true}\n');
    const installed = await npm(['install', path.join(tmp, filename), '--no-audit', '--no-fund'], app);
    expect(installed.code, installed.out).toBe(0);
    expect(installed.out).not.toMatch(/shoal@[\d.]+ \(|> shoal@/);
    expect(fs.existsSync(path.join(app, 'node_modules/shoal/LICENSE'))).toBe(true);
    expect(fs.existsSync(path.join(app, 'node_modules/shoal/dist/runtime/cli/main.js'))).toBe(true);
  }, SLOW);
});
