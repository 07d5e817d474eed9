// Session app on fastify + shoal/fastify, run under `shoal start`.
//   GET /        {pid}                         readiness
//   GET /sock    {noDelay}: whether Nagle is off on this connection
//   GET /new     creates a session (profile(), 10 attributes), Set-Cookie
//   GET /r       reads three attributes         (410 when the cookie names no session here)
//   GET /w       writes one attribute (lastSeen) (410 likewise)
//   GET /visits  reads the counter, increments it, writes it back (410 likewise)
//   GET /set?k=K&v=V  sets attribute K to the string V (410 likewise)   part D's probe
//   GET /get?k=K      {v, at}: attribute K, null if unset (410 likewise)   part D's probe
//   GET /clock        {t}: this process's clock (performance.timeOrigin + now(), ms)
// BENCH_VIS_STAMP=1 (part D's visibility hosts only): `at` is when the
// current value of K reached this worker's replica in a change from the
// primary (sess-delta), on the clock of /clock; null if it came otherwise. It
// wraps the replica's receive(), a benchmark's look inside the runtime.
import { performance } from 'node:perf_hooks';
import { SECRET, dist, maybeNoDelay, profile, rootRequire, socketNoDelay } from './common.mjs';

const Fastify = rootRequire('fastify');
const { default: shoalSession } = await import(dist('session/fastify.js'));
const { onShutdown } = await import(dist('index.js'));
const { localReplica } = await import(dist('session/manager.js'));

const now = () => performance.timeOrigin + performance.now();
/** `${id} ${key}` -> { v, at }: when a value of a probe key arrived from the primary. */
const arrivals = new Map();
if (process.env.BENCH_VIS_STAMP === '1') {
  const replica = localReplica();
  const receive = replica.receive;
  replica.receive = function stampedReceive(msg) {
    const reply = receive.call(this, msg);
    if (msg?.shoal === 'sess-delta') {
      const at = now();
      for (const [id, d] of msg.changes) {
        for (const k in d.attrs ?? {}) {
          if (!k.startsWith('vis')) continue;
          if (arrivals.size > 1000) arrivals.clear();
          arrivals.set(`${id} ${k}`, { v: d.attrs[k].value, at });
        }
      }
    }
    return reply;
  };
}

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

app.get('/set', async (req, reply) => {
  const s = req.session;
  if (s.isNew) return reply.code(410).send({ lost: true });
  const { k, v } = req.query;
  if (typeof k !== 'string' || typeof v !== 'string' || !k) return reply.code(400).send({ bad: 'k and v' });
  s.set(k, v);
  return { ok: true };
});
app.get('/get', async (req, reply) => {
  const s = req.session;
  if (s.isNew) return reply.code(410).send({ lost: true });
  const { k } = req.query;
  if (typeof k !== 'string' || !k) return reply.code(400).send({ bad: 'k' });
  const v = s.get(k) ?? null;
  const a = arrivals.get(`${s.id} ${k}`);
  return { v, at: a !== undefined && a.v === v ? a.at : null };
});
app.get('/clock', async () => ({ t: now() }));

maybeNoDelay(app.server);
onShutdown(() => app.close());
await app.listen({ port: Number(process.env.PORT ?? 3000), host: process.env.HOST ?? '127.0.0.1' });
