// Screenshots of the dashboard under load, for the README: docs/dashboard.png (wide) and
// docs/dashboard-phone.png. Starts its own cluster from dist/ (run `npm run build` first)
// with an admin token, loads it, kills a worker and reloads (so the charts carry marks),
// then shoots the page in the system Chromium (puppeteer-core, no browser download).
//   node scripts/dashboard-screenshot.mjs [seconds of load, default 75]
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import puppeteer from 'puppeteer-core';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SECONDS = Number(process.argv[2] ?? 75);
const PORT = 18471;
const ADMIN = 18472;
const TOKEN = 'screenshot-token-0123456789';
const CONCURRENCY = 6;
const env = { ...process.env, SHOAL_RUNTIME_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'shoal-shot-')), SHOAL_ADMIN_TOKEN: TOKEN };

const until = (ms) => new Promise((r) => setTimeout(r, ms));
const cli = (...args) => new Promise((resolve) => spawn(process.execPath, [path.join(ROOT, 'dist/runtime/cli/main.js'), ...args], { env, stdio: 'ignore' }).on('exit', resolve));

const primary = spawn(process.execPath, [path.join(ROOT, 'dist/runtime/cli/main.js'), 'start', path.join(ROOT, 'test/fixtures/http-esm.mjs'),
  '--port', String(PORT), '--workers', '4', '--name', 'shop', '--admin', `127.0.0.1:${ADMIN}`], { env, stdio: ['ignore', 'pipe', 'inherit'] });
await new Promise((resolve) => { primary.stdout.on('data', (c) => { if (String(c).includes('cluster ready')) resolve(); }); });

let loading = true;
// A new connection per request spreads the load over every worker.
const agent = false;
const loop = async () => {
  while (loading) {
    await new Promise((resolve) => http.get({ host: '127.0.0.1', port: PORT, path: Math.random() < 0.03 ? '/missing' : '/', agent }, (res) => { res.resume(); res.on('end', resolve); }).on('error', resolve));
  }
};
const loops = Array.from({ length: CONCURRENCY }, loop);

const browser = await puppeteer.launch({ executablePath: '/usr/bin/chromium', headless: true, args: os.userInfo().uid === 0 ? ['--no-sandbox'] : [] });
try {
  const page = await browser.newPage();
  await page.setViewport({ width: 1360, height: 1000 });
  await page.goto(`http://127.0.0.1:${ADMIN}/?token=${TOKEN}`);
  const third = (SECONDS * 1000) / 3;
  await until(third);
  const status = JSON.parse(await new Promise((resolve) => http.get({ host: '127.0.0.1', port: ADMIN, path: '/status', headers: { authorization: `Bearer ${TOKEN}` } }, (res) => {
    let b = ''; res.on('data', (c) => { b += c; }); res.on('end', () => resolve(b));
  })));
  process.kill(status.workers[1].pid, 'SIGKILL');
  await until(third);
  await cli('reload', '--name', 'shop');
  await until(third);
  fs.mkdirSync(path.join(ROOT, 'docs'), { recursive: true });
  await page.screenshot({ path: path.join(ROOT, 'docs/dashboard.png'), fullPage: true });
  await page.setViewport({ width: 390, height: 844, deviceScaleFactor: 2, isMobile: true });
  await until(1500);
  await page.screenshot({ path: path.join(ROOT, 'docs/dashboard-phone.png'), fullPage: false });
} finally {
  loading = false;
  await Promise.all(loops);
  await browser.close();
  await cli('stop', '--name', 'shop');
}
