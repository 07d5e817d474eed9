/**
 * `shoal new` end to end, the way a user without a clone gets it: pack
 * shoal, `npx --package <tgz> shoal new my-app` (real npm, real install),
 * the new app's own tests, then the app clustered through its start script,
 * stopped with SIGTERM. The usage errors go through the built CLI.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, ROOT, runCli, TEST_RUNTIME_DIR } from '../helpers/cluster.js';
import { getJson } from '../helpers/http.js';

// npm installs from the registry: generous, though a warm cache takes well under a minute.
const SLOW = 240_000;
const version = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
let tmp: string;

beforeAll(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'shoal-new-')); });
afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
  removeNpxInstall(path.basename(tmp));
});

const readJson = <T = Record<string, unknown>>(file: string): T => JSON.parse(fs.readFileSync(file, 'utf8')) as T;

/** A user's shell: without what vitest and the outer `npm test` set for this process. */
function userEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^(VITEST|NODE_ENV$|TEST$|npm_lifecycle_|npm_package_|INIT_CWD$)/.test(k)) env[k] = v;
  }
  return { ...env, NO_COLOR: '1', ...extra };
}

interface Done { code: number | null; signal: NodeJS.Signals | null; out: string }

/** Runs a command to completion; `out` has stdout and stderr, for the failure message. */
function run(cmd: string, args: string[], cwd: string, timeoutMs = 200_000): Promise<Done> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { cwd, env: userEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.setEncoding('utf8').on('data', (c: string) => { out += c; });
    p.stderr.setEncoding('utf8').on('data', (c: string) => { out += c; });
    const t = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.once('exit', (code, signal) => { clearTimeout(t); resolve({ code, signal, out }); });
  });
}

/** npx installs the tarball into <npm cache>/_npx/<hash>/, one per tarball path: remove ours. */
function removeNpxInstall(marker: string): void {
  const cache = spawnSync('npm', ['config', 'get', 'cache'], { encoding: 'utf8', env: userEnv() }).stdout.trim();
  const npx = path.join(cache, '_npx');
  if (!cache || !fs.existsSync(npx)) return;
  for (const d of fs.readdirSync(npx)) {
    const pkg = path.join(npx, d, 'package.json');
    if (fs.existsSync(pkg) && fs.readFileSync(pkg, 'utf8').includes(marker)) fs.rmSync(path.join(npx, d), { recursive: true, force: true });
  }
}

const oneLine = (stderr: string): void => {
  expect(stderr.trim().split('\n')).toHaveLength(1);
  expect(stderr).not.toMatch(/\n\s+at /);
};

describe('shoal new: usage', () => {
  it('refuses a folder that is not empty, and leaves it untouched', async () => {
    const dir = path.join(tmp, 'full');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'mine');
    const r = await runCli(['new', 'full'], { cwd: tmp });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^shoal: full is not empty \(it holds notes\.txt\); pick a new folder, or add --force/);
    oneLine(r.stderr);
    expect(fs.readdirSync(dir)).toEqual(['notes.txt']);
    expect(fs.readFileSync(path.join(dir, 'notes.txt'), 'utf8')).toBe('mine');
  });

  it('refuses a folder name that is not a valid package name, and creates nothing', async () => {
    for (const name of ['My App!', '.hidden', 'http', 'shoal']) {
      const r = await runCli(['new', name], { cwd: tmp });
      expect(r.code, name).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`^shoal: '${name.replace('.', '\\.')}' cannot name the app \\(the folder's name becomes its package name\\): `));
      oneLine(r.stderr);
      expect(fs.existsSync(path.join(tmp, name))).toBe(false);
    }
  });

  it('asks for the folder when it is missing', async () => {
    const r = await runCli(['new'], { cwd: tmp });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^shoal: missing the new app's folder: run 'shoal new <dir>', e\.g\. 'shoal new my-app'/);
  });

  it('--no-install writes the app with shoal packed into vendor/, and installs nothing', async () => {
    const r = await runCli(['new', 'quiet-app', '--no-install'], { cwd: tmp, timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(0);
    const app = path.join(tmp, 'quiet-app');
    const pkg = readJson<{ name: string; dependencies: Record<string, string> }>(path.join(app, 'package.json'));
    expect(pkg.name).toBe('quiet-app');
    expect(pkg.dependencies.shoal).toBe(`file:vendor/shoal-${version}.tgz`);
    expect(fs.existsSync(path.join(app, 'vendor', `shoal-${version}.tgz`))).toBe(true);
    for (const f of ['.gitignore', 'README.md', 'tsconfig.json', 'src/app.ts', 'src/server.ts', 'test/app.test.ts']) {
      expect(fs.existsSync(path.join(app, f)), f).toBe(true);
    }
    expect(fs.existsSync(path.join(app, 'package.template.json'))).toBe(false);
    expect(readJson(path.join(app, 'shoal.config.json')).name).toBe('quiet-app');
    expect(fs.readFileSync(path.join(app, 'README.md'), 'utf8')).toMatch(/^# quiet-app\n/);
    expect(fs.existsSync(path.join(app, 'node_modules'))).toBe(false);
    expect(r.stdout).toMatch(/cd quiet-app\n\s+npm install\n/);
  });

  it('--force writes into a folder that is not empty, keeping other files; --shoal-spec sets the dependency', async () => {
    const r = await runCli(['new', 'full', '--force', '--no-install', '--shoal-spec', `^${version}`], { cwd: tmp });
    expect(r.code, r.stderr).toBe(0);
    const dir = path.join(tmp, 'full');
    expect(fs.readFileSync(path.join(dir, 'notes.txt'), 'utf8')).toBe('mine');
    expect(readJson<{ dependencies: Record<string, string> }>(path.join(dir, 'package.json')).dependencies.shoal).toBe(`^${version}`);
    expect(fs.existsSync(path.join(dir, 'vendor'))).toBe(false);
  });
});

describe('npx shoal new, end to end', () => {
  let app: string;

  it('npx --package <tarball> shoal new my-app writes the app and installs it', async () => {
    const packed = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], ROOT);
    expect(packed.code, packed.out).toBe(0);
    const tgz = path.join(tmp, `shoal-${version}.tgz`);
    expect(fs.existsSync(tgz)).toBe(true);

    const r = await run('npx', ['--yes', '--package', tgz, 'shoal', 'new', 'my-app'], tmp);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/Done: my-app is ready/);
    app = path.join(tmp, 'my-app');
    const pkg = readJson<{ name: string; dependencies: Record<string, string> }>(path.join(app, 'package.json'));
    expect(pkg.name).toBe('my-app');
    expect(pkg.dependencies.shoal).toBe(`file:vendor/shoal-${version}.tgz`);
    expect(readJson(path.join(app, 'node_modules/shoal/package.json')).version).toBe(version);
    expect(fs.existsSync(path.join(app, 'node_modules/fastify/package.json'))).toBe(true);
  }, SLOW);

  it("the new app's own tests pass (npm test: type-check, then vitest)", async () => {
    expect(app, 'the app was not created').toBeDefined();
    const r = await run('npm', ['test'], app);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/Tests\s+\d+ passed/);
  }, SLOW);

  it('npm start serves it clustered: /visits counts 1, 2, 3 … for one client across workers; SIGTERM stops it, exit 0', async () => {
    expect(app, 'the app was not created').toBeDefined();
    const port = await freePort();
    // Its own process group, so that whatever happens the test can reap everything it started.
    const p = spawn('npm', ['start'], {
      cwd: app,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: userEnv({
        PORT: String(port), SHOAL_WORKERS: '2', SHOAL_HOST: '127.0.0.1', SHOAL_NAME: `new-e2e-${port}`,
        // Round robin, so that consecutive new connections go to different workers.
        SHOAL_BALANCER: 'round-robin', SHOAL_RUNTIME_DIR: TEST_RUNTIME_DIR,
        NODE_ENV: 'production', SESSION_SECRET: 'e2e-secret-e2e-secret-e2e-secret-e2e',
      }),
    });
    let out = '';
    const exited = new Promise<{ code: number | null }>((resolve) => p.once('exit', (code) => resolve({ code })));
    try {
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`the cluster was not ready within 60 s:\n${out}`)), 60_000);
        const check = (c: string): void => { out += c; if (out.includes('"msg":"cluster ready"')) { clearTimeout(t); resolve(); } };
        p.stdout.setEncoding('utf8').on('data', check);
        p.stderr.setEncoding('utf8').on('data', (c: string) => { out += c; });
        void exited.then(({ code }) => { clearTimeout(t); reject(new Error(`npm start exited (${code}) before the cluster was ready:\n${out}`)); });
      });

      expect((await getJson(port, '/')).json).toMatchObject({ hello: 'world' });
      expect((await getJson(port, '/health')).json).toEqual({ ok: true });
      let cookie: string | undefined;
      const workers = new Set<number>();
      for (let n = 1; n <= 6; n++) {
        // A new connection each time (getJson's default), with the session cookie.
        const r = await getJson<{ visits: number; worker: number }>(port, '/visits', cookie ? { headers: { cookie } } : {});
        expect(r.json.visits).toBe(n);
        workers.add(r.json.worker);
        cookie ??= [r.headers['set-cookie'] ?? []].flat()[0]?.split(';')[0];
        expect(cookie).toMatch(/^shoal\.sid=/);
      }
      expect(workers.size).toBeGreaterThan(1);

      p.kill('SIGTERM');
      expect((await exited).code, out).toBe(0);
      expect(out).toMatch(/"msg":"stopped"/);
    } finally {
      // Nothing is left when the test passed (ESRCH); otherwise npm, shoal and the workers go.
      try { process.kill(-p.pid!, 'SIGKILL'); } catch { /* the group is gone */ }
    }
  }, SLOW);
});
