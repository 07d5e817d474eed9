/**
 * Headless Chromium from the system's packages (Debian: apt-get install
 * chromium), driven by puppeteer-core: no browser is downloaded. A missing
 * Chromium fails the test that needs it (never a skip). Every page is
 * watched for script errors, console errors and requests leaving the host.
 */
import fs from 'node:fs';
import os from 'node:os';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';

export const CHROMIUM = process.env.SHOAL_TEST_CHROMIUM ?? '/usr/bin/chromium';

export async function launchBrowser(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: the browser tests need Chromium (apt-get install chromium)`);
  // Chromium's sandbox refuses to run as root (CI containers).
  return puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: os.userInfo().uid === 0 ? ['--no-sandbox'] : [] });
}

export interface WatchedPage {
  readonly page: Page;
  /** Script errors, console errors, failed requests and requests to anywhere but `origin`, as they happened. */
  readonly problems: string[];
}

export async function watchedPage(browser: Browser, origin: string): Promise<WatchedPage> {
  const page = await browser.newPage();
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`page error: ${(e as Error).message}`));
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console error: ${m.text()}`); });
  page.on('request', (r) => { if (!r.url().startsWith(`${origin}/`)) problems.push(`request outside the host: ${r.url()}`); });
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText ?? ''}`));
  return { page, problems };
}
