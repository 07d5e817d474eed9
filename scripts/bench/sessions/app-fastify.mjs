// Session app on fastify + shoal/fastify, run under `shoal start`.
//   GET /        {pid}                         readiness
//   GET /sock    {noDelay}: whether Nagle is off on this connection
//   GET /new     creates a session (profile(), 10 attributes), Set-Cookie
//   GET /r       reads three attributes         (410 when the cookie names no session here)
//   GET /w       writes one attribute (lastSeen) (410 likewise)
//   GET /visits  reads the counter, increments it, writes it back (410 likewise)
import { SECRET, dist, maybeNoDelay, profile, rootRequire, socketNoDelay } from './common.mjs';

const Fastify = rootRequire('fastify');
const { default: shoalSession } = await import(dist('session/fastify.js'));
const { onShutdown } = await import(dist('index.js'));

const app = Fastify({ logger: false });
await app.register(shoalSession, { secret: SECRET });
let made = 0;

app.get('/', async () => ({ pid: process.pid }));
app.get('/sock', async (req) => ({ noDelay: socketNoDelay(req.socket) }));
app.get('/new', async (req) => {
  const p = profile(++made);
  for (const [k, v] of Object.entries(p)) req.session.set(k, v);
  return { ok: true };
});
app.get('/r', async (req, reply) => {
  const s = req.session;
  if (s.isNew) return reply.code(410).send({ lost: true });
  return { visits: s.get('visits'), user: s.get('user').id, theme: s.get('theme') };
});
app.get('/w', async (req, reply) => {
  const s = req.session;
  if (s.isNew) return reply.code(410).send({ lost: true });
  s.set('lastSeen', Date.now());
  return { ok: true };
});
app.get('/visits', async (req, reply) => {
  const s = req.session;
  if (s.isNew) return reply.code(410).send({ lost: true });
  const visits = Number(s.get('visits') ?? 0) + 1;
  s.set('visits', visits);
  return { visits };
});

maybeNoDelay(app.server);
onShutdown(() => app.close());
await app.listen({ port: Number(process.env.PORT ?? 3000), host: process.env.HOST ?? '127.0.0.1' });
