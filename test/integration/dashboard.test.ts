/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The dashboard in a real browser (headless Chromium, puppeteer-core) on a
 * real cluster under real load: every worker in the table with live
 * figures, the charts drawn, a worker killed with SIGKILL replaced in the
 * table without a reload; read-only without a token, and with one the
 * sign-in and the reload button behind its confirmation. Any script error,
 * console error or request leaving the host fails the test.
 *
 * The DOM library is referenced for the functions that run in the page.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import type { Browser, Page } from 'puppeteer-core';
import { FIXTURES, startCluster, type Cluster } from '../helpers/cluster.js';
import { adminOf } from '../helpers/admin.js';
import { launchBrowser, watchedPage } from '../helpers/browser.js';
import { failures, runLoad, type LoadCounts } from '../helpers/load.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';

const ADMIN = ['--admin', '127.0.0.1:0'];
const TOKEN = 'browser-token-0123456789abcdef';
const WAIT_MS = 15_000;

let browser: Browser;
let cluster: Cluster | undefined;
let stopLoad: (() => void) | undefined;
let load: Promise<LoadCounts> | undefined;
let other: Cluster | undefined;
let redis: RedisServer | undefined;

beforeAll(async () => { browser = await launchBrowser(); });
afterAll(async () => { await browser?.close(); });
afterEach(async () => {
  stopLoad?.();
  await load;
  await cluster?.stop('SIGKILL');
  await other?.stop('SIGKILL');
  await redis?.kill();
  cluster = undefined;
  other = undefined;
  redis = undefined;
});

const startLoad = (port: number): void => {
  // A new connection per request, so every worker gets some (kept-alive connections stay where they landed).
  load = runLoad({ port, concurrency: 4, keepAlive: false }, new Promise<void>((r) => { stopLoad = r; }));
};

interface Row { slot: string; id: string; pid: string; state: string; cells: string[] }
// Queried and read in one evaluation in the page: $$eval's handles may be detached by the next render in between.
const rows = (page: Page): Promise<Row[]> => page.evaluate(() => [...document.querySelectorAll<HTMLTableRowElement>('#workers tbody tr')].map((tr) => ({
  slot: tr.dataset.slot ?? '', id: tr.dataset.id ?? '', pid: tr.dataset.pid ?? '', state: tr.dataset.state ?? '',
  cells: [...tr.querySelectorAll('td')].map((td) => td.textContent ?? ''),
})));

describe('dashboard in Chromium', () => {
  it('under load: a row per worker with live figures, drawn charts; a killed worker is replaced in place, without a reload', async () => {
    cluster = await startCluster(path.join(FIXTURES, 'http-esm.mjs'), { workers: 3, extraArgs: ADMIN });
    const a = await adminOf(cluster);
    const origin = `http://${a.host}:${a.port}`;
    startLoad(cluster.port);
    const { page, problems } = await watchedPage(browser, origin);
    await page.goto(`${origin}/`);
    await page.evaluate(() => { (window as unknown as { loadedOnce: boolean }).loadedOnce = true; });

    // Every worker ready and serving, in its own row: req/s and p50 are figures, not dashes.
    await page.waitForFunction(() => {
      const trs = [...document.querySelectorAll<HTMLTableRowElement>('#workers tbody tr')];
      return trs.length === 3 && trs.every((tr) => tr.dataset.state === 'ready' && /^\d/.test(tr.cells[8]?.textContent ?? '') && tr.cells[8]?.textContent !== '0' && /ms$/.test(tr.cells[9]?.textContent ?? ''));
    }, { timeout: WAIT_MS });
    const before = await rows(page);
    expect(before.map((r) => r.slot)).toEqual(['1', '2', '3']);
    for (const r of before) expect(r.cells[12]).toMatch(/^\d+(\.\d)? MiB$/);
    expect(await page.$eval('#facts', (e) => e.textContent)).toMatch(/3\/3 ready.*least-conn.*primary pid/);
    expect(await page.$eval('#actions', (e) => (e as HTMLElement).hidden)).toBe(true);
    expect(await page.$eval('#actions', (e) => e.checkVisibility())).toBe(false);

    // The charts: a line per worker (and per quantile, per status class), each with points drawn.
    await page.waitForFunction(() => [...document.querySelectorAll('svg[data-chart="rps"] path[data-series]')].length === 3
      && [...document.querySelectorAll('svg[data-chart] path[data-series]')].every((p) => p.getAttribute('data-series') === '1xx' || Number(p.getAttribute('data-n')) >= 2), { timeout: WAIT_MS });
    const series = await page.evaluate(() => [...document.querySelectorAll<SVGPathElement>('svg[data-chart] path[data-series]')].map((p) => `${p.closest('svg')!.dataset.chart}:${p.dataset.series}`));
    expect(series).toEqual(expect.arrayContaining(['rps:worker 1', 'rps:worker 3', 'latency:p50', 'latency:p99', 'codes:2xx', 'conns:worker 2']));

    // SIGKILL the worker in slot 2: its replacement (new id, new pid) appears in its row, the page never reloads.
    const victim = before[1]!;
    process.kill(Number(victim.pid), 'SIGKILL');
    await page.waitForFunction((id: string) => {
      const tr = document.querySelector<HTMLTableRowElement>('#workers tbody tr[data-slot="2"]');
      return tr !== null && tr.dataset.id !== id && tr.dataset.id !== '' && tr.dataset.state === 'ready';
    }, { timeout: WAIT_MS }, victim.id);
    const after = await rows(page);
    expect(after[1]!.pid).not.toBe(victim.pid);
    expect(after[1]!.cells[5]).toBe('1');
    expect([after[0]!.pid, after[2]!.pid]).toEqual([before[0]!.pid, before[2]!.pid]);
    await page.waitForFunction(() => /crashed, restarted \(slot 2\)/.test(document.querySelector('#events')?.textContent ?? ''), { timeout: WAIT_MS });
    expect(await page.$$('svg[data-chart="rps"] .mark-restart')).not.toHaveLength(0);
    expect(await page.evaluate(() => (window as unknown as { loadedOnce?: boolean }).loadedOnce)).toBe(true);
    expect(problems).toEqual([]);
    stopLoad!();
    const counts = await load!;
    expect(counts.ok).toBeGreaterThan(0);
    // Killed with SIGKILL, a worker loses what was in flight in it; nothing else fails.
    expect(failures(counts)).toBeLessThanOrEqual(4);
    await page.close();
  });

  it('with a token: signs in through the form, shows the buttons, and reloads after the confirmation', async () => {
    cluster = await startCluster(path.join(FIXTURES, 'http-esm.mjs'), { workers: 2, extraArgs: ADMIN, env: { SHOAL_ADMIN_TOKEN: TOKEN } });
    const a = await adminOf(cluster);
    const origin = `http://${a.host}:${a.port}`;
    startLoad(cluster.port);
    const { page, problems } = await watchedPage(browser, origin);
    const first = await page.goto(`${origin}/`);
    expect(first?.status()).toBe(401);
    // The sign-in answers 401 by design: Chromium logs that as a console error, which is not the page's.
    problems.length = 0;
    await page.type('#token', TOKEN);
    await Promise.all([page.waitForNavigation(), page.click('button[type="submit"]')]);
    expect(page.url()).toBe(`${origin}/`);
    const cookie = (await browser.cookies()).find((c) => c.name === 'shoal_admin');
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    await page.waitForFunction(() => !(document.querySelector('#actions') as HTMLElement).hidden && document.querySelectorAll('#workers tbody tr[data-state="ready"]').length === 2, { timeout: WAIT_MS });
    const ids = (await rows(page)).map((r) => r.id);

    const dialogs: string[] = [];
    page.on('dialog', (d) => { dialogs.push(d.message()); void d.accept(); });
    await page.click('#reload');
    await page.waitForFunction(() => /done, 2 replaced/.test(document.querySelector('#action-result')?.textContent ?? ''), { timeout: WAIT_MS });
    expect(dialogs).toEqual(['Reload every worker?']);
    await page.waitForFunction((old: string) => [...document.querySelectorAll<HTMLTableRowElement>('#workers tbody tr')].every((tr) => !old.split(',').includes(tr.dataset.id ?? '')), { timeout: WAIT_MS }, ids.join(','));
    await page.waitForFunction(() => /reload done/.test(document.querySelector('#events')?.textContent ?? ''), { timeout: WAIT_MS });

    // A dismissed confirmation does nothing.
    page.removeAllListeners('dialog');
    page.on('dialog', (d) => { void d.dismiss(); });
    await page.$eval('#scale-to', (e) => { (e as HTMLInputElement).value = '3'; });
    await page.click('#scale');
    expect(await page.$eval('#action-result', (e) => e.textContent)).toMatch(/done, 2 replaced/);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('with --redis: the health of the link and every host of the cluster with its load', async () => {
    redis = await startRedis();
    cluster = await startCluster(path.join(FIXTURES, 'http-esm.mjs'), { workers: 2, extraArgs: [...ADMIN, '--redis', redis.url] });
    other = await startCluster(path.join(FIXTURES, 'http-esm.mjs'), { workers: 1, extraArgs: ['--redis', redis.url] });
    const a = await adminOf(cluster);
    const origin = `http://${a.host}:${a.port}`;
    startLoad(cluster.port);
    const { page, problems } = await watchedPage(browser, origin);
    await page.goto(`${origin}/`);
    // A host's entry is renewed every few seconds (the host TTL's part): wait for both to say their workers are ready.
    await page.waitForFunction(() => {
      const ready = [...document.querySelectorAll('#hosts tbody tr')].map((tr) => tr.querySelectorAll('td')[3]?.textContent).sort().join();
      return ready === '1/1,2/2' && /● up/.test(document.querySelector('#redis')?.textContent ?? '');
    }, { timeout: WAIT_MS });
    const hosts = await page.evaluate(() => [...document.querySelectorAll('#hosts tbody tr')].map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')));
    expect(hosts.filter((h) => h[0]?.endsWith('(this one)'))).toHaveLength(1);
    expect(hosts.map((h) => h[3]).sort()).toEqual(['1/1', '2/2']);
    expect(await page.$eval('#sessions', (e) => e.textContent)).toMatch(/sessions\s*\d/);
    expect(problems).toEqual([]);
    await page.close();
  });
});
