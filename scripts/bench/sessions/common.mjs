// Shared by the session benchmark's apps and harness: where the built shoal
// and the root's frameworks are, and the session every benchmark client has.
// The apps live under scripts/bench, whose own package.json stops `shoal`
// from resolving by name, so the built files are imported by path; express,
// express-session and fastify come from the root's node_modules, the same
// copies shoal's adapters use (the bench install has a second express-session,
// pulled in as connect-redis's peer, which the apps do not use).
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('../../../', import.meta.url));
export const dist = (p) => new URL(`../../../dist/runtime/${p}`, import.meta.url).href;
export const rootRequire = createRequire(`${root}package.json`);

/** Not a secret worth keeping: a benchmark's, 32+ characters as shoal requires. */
export const SECRET = 'shoal-bench-session-secret-0123456789abcdef';

/** What a benchmark session holds after /new: ten attributes, ~400 bytes of JSON. */
export function profile(i) {
  return {
    user: { id: i, name: `user${i}`, email: `user${i}@example.com` },
    roles: ['reader', 'writer'],
    locale: 'en-GB',
    tz: 'Europe/London',
    theme: i % 2 ? 'dark' : 'light',
    cart: [{ sku: 'A-100', qty: 2, price: 1999 }, { sku: 'B-7', qty: 1, price: 450 }],
    flags: { beta: true, newCheckout: false },
    csrf: `csrf-${i}-0123456789abcdef0123456789`,
    lastSeen: Date.now(),
    visits: 0,
  };
}

/** Whether Nagle is off on a socket (node keeps it behind a private symbol); null when it cannot tell. */
export function socketNoDelay(socket) {
  for (const s of Object.getOwnPropertySymbols(socket)) if (s.description === 'kSetNoDelay') return Boolean(socket[s]);
  return null;
}

/**
 * BENCH_APP_NODELAY=1: the app turns Nagle off on every connection itself (a
 * workaround, for comparison runs; see sessions.mjs --app-nodelay).
 */
export function maybeNoDelay(server) {
  if (process.env.BENCH_APP_NODELAY === '1') server.on('connection', (s) => s.setNoDelay(true));
}
