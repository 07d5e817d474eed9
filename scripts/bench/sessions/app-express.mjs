// Session app on express + express-session, run under `shoal start`; the
// store is BENCH_SESSION_STORE: `redis` (connect-redis on node-redis, the
// whole session read and written per request) or `shoal` (shoal/express's
// ShoalStore). Same routes as app-fastify.mjs (/, /sock, /new, /visits).
import { SECRET, dist, maybeNoDelay, profile, rootRequire, socketNoDelay } from './common.mjs';

const express = rootRequire('express');
const session = rootRequire('express-session');
const { onShutdown } = await import(dist('index.js'));

const kind = process.env.BENCH_SESSION_STORE;
let store;
let closeStore = async () => {};
if (kind === 'redis') {
  // Resolved from scripts/bench/node_modules (the bench package's dependencies).
  const { createClient } = await import('redis');
  const { RedisStore } = await import('connect-redis');
  const client = createClient({
    url: process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379',
    // Fail fast rather than retry forever: the harness checks Redis before it starts this app.
    socket: { connectTimeout: 2000, reconnectStrategy: (n) => (n > 5 ? new Error('redis: gave up reconnecting') : 100) },
  });
  client.on('error', (e) => console.error(`redis client: ${e.message}`));
  await client.connect();
  store = new RedisStore({ client, prefix: process.env.BENCH_REDIS_PREFIX ?? 'shoal-bench:sess:', ttl: 3600 });
  closeStore = () => client.quit().catch(() => {});
} else if (kind === 'shoal') {
  const { ShoalStore } = await import(dist('session/express.js'));
  store = new ShoalStore();
} else {
  console.error(`BENCH_SESSION_STORE must be redis or shoal, got ${kind}`);
  process.exit(2);
}

const app = express();
app.disable('x-powered-by');
app.set('etag', false);
// ShoalStore's read-your-writes check across hosts, as the README has it (a pass-through for connect-redis's store).
if (kind === 'shoal') app.use(store.versionCheck());
app.use(session({ store, secret: SECRET, resave: false, saveUninitialized: false }));
let made = 0;

app.get('/', (_req, res) => { res.json({ pid: process.pid }); });
app.get('/sock', (req, res) => { res.json({ noDelay: socketNoDelay(req.socket) }); });
app.get('/new', (req, res) => {
  Object.assign(req.session, profile(++made));
  res.json({ ok: true });
});
app.get('/visits', (req, res) => {
  if (req.session.visits === undefined) { res.status(410).json({ lost: true }); return; }
  const visits = Number(req.session.visits) + 1;
  req.session.visits = visits;
  res.json({ visits });
});

const server = app.listen(Number(process.env.PORT ?? 3000), process.env.HOST ?? '127.0.0.1');
maybeNoDelay(server);
onShutdown(async () => {
  await new Promise((resolve) => server.close(() => resolve()));
  await closeStore();
});
