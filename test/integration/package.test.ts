/**
 * shoal's package as `npm pack` makes it and a user installs it: it ships its
 * licence, and installing the tarball runs none of shoal's scripts (npm
 * names the scripts of the packages it installs, so none of shoal's may be
 * an install-time one: the build is `prepack`, run by `npm pack`), and an
 * installed copy serves the dashboard's page and files (the build copies them).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FIXTURES, freePort, ROOT, TEST_RUNTIME_DIR } from '../helpers/cluster.js';
import { request } from '../helpers/http.js';

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
    for (const asset of ['index.html', 'app.js', 'chart.js', 'format.js', 'style.css']) {
      expect(files.map((f) => f.path)).toContain(`dist/runtime/dashboard/assets/${asset}`);
    }

    // The installed copy's dashboard: its page and a script, from its own files.
    const [port, admin] = [await freePort(), await freePort()];
    const primary = spawn(process.execPath, [path.join(app, 'node_modules/shoal/dist/runtime/cli/main.js'), 'start', path.join(FIXTURES, 'http-esm.mjs'),
      '--port', String(port), '--workers', '1', '--name', `pkg-${port}`, '--admin', `127.0.0.1:${admin}`], { cwd: app, env: { ...process.env, SHOAL_RUNTIME_DIR: TEST_RUNTIME_DIR }, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      await new Promise<void>((resolve, reject) => {
        let out = '';
        primary.stdout.setEncoding('utf8').on('data', (c: string) => { out += c; if (out.includes('"admin server listening"')) resolve(); });
        primary.once('exit', (code) => reject(new Error(`the installed shoal exited with ${code}: ${out}`)));
      });
      const page = await request(admin, '/', { headers: { accept: 'text/html' } });
      expect([page.status, page.body]).toEqual([200, expect.stringContaining('/assets/app.js')]);
      expect((await request(admin, '/assets/app.js')).status).toBe(200);
    } finally { primary.kill('SIGKILL'); }
  }, SLOW);
});
