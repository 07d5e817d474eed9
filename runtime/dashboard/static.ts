/**
 * The dashboard's page: plain files of our own in ./assets (HTML, CSS and
 * ES modules; no library, no font, nothing fetched from elsewhere), read
 * once when the admin server opens and served from memory. The build copies
 * them next to the compiled code (scripts/copy-assets.mjs), so an installed
 * package has them.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Reply } from '../admin/server.js';

const DIR = fileURLToPath(new URL('./assets/', import.meta.url));

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
};

/**
 * Only our own files, from this host: no inline script or style, no frame
 * of this page elsewhere (clickjacking of the buttons).
 */
export const DASHBOARD_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/** URL path -> reply: `/` is index.html, the rest under /assets/. */
export function loadStatic(): Map<string, Reply> {
  const out = new Map<string, Reply>();
  for (const name of fs.readdirSync(DIR)) {
    const type = TYPES[path.extname(name)];
    if (!type) continue;
    const reply: Reply = { status: 200, type, body: fs.readFileSync(path.join(DIR, name), 'utf8'), headers: { 'content-security-policy': DASHBOARD_CSP } };
    out.set(name === 'index.html' ? '/' : `/assets/${name}`, reply);
  }
  return out;
}
