/**
 * The session adapters as an app uses them: imported from the built package
 * by its own name ('shoal/fastify', 'shoal/express'), served over real
 * sockets in this one process (no cluster: the process's standalone
 * replica). Run `npm run build` first.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import session from 'express-session';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_COOKIE_NAME } from 'shoal';
import { ShoalStore } from 'shoal/express';
import shoalSession from 'shoal/fastify';

const SECRET = 'adapter-secret-adapter-secret-adapter!';
const MAX_BYTES = 1024;

interface Res { status: number; body: string; cookies: string[]; json: <T = Record<string, unknown>>() => T }

function get(port: number, path: string, headers: Record<string, string> = {}): Promise<Res> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { body += c; });
      res.on('end', () => resolve({
        status: res.statusCode ?? 0, body, cookies: res.headers['set-cookie'] ?? [], json: <T>() => JSON.parse(body) as T,
      }));
    });
    req.on('error', reject);
  });
}

/** The Cookie header a browser would send back for a Set-Cookie line. */
const cookieOf = (line: string | undefined): { cookie: string } => {
  expect(line).toBeDefined();
  return { cookie: line!.split(';')[0]! };
};
const portOf = (s: http.Server): number => (s.address() as AddressInfo).port;
const pause = (ms: string | undefined): Promise<void> => new Promise((r) => setTimeout(r, Number(ms ?? 0)));

describe('shoal/fastify', () => {
  let app: FastifyInstance;
  let port: number;

  beforeAll(async () => {
    // trustProxy: the request counts as https when a proxy says so (X-Forwarded-Proto).
    app = Fastify({ logger: false, trustProxy: true });
    await app.register(shoalSession, { secret: SECRET, maxSessionBytes: MAX_BYTES });
    type Q = { Querystring: Record<string, string> };
    app.get<Q>('/set', async (req) => { req.session.set(req.query.k!, req.query.v); return { ok: true }; });
    app.get('/all', async (req) => ({ data: req.session.all(), isNew: req.session.isNew }));
    app.get<Q>('/big', async (req) => { req.session.set('big', 'x'.repeat(Number(req.query.n))); return { ok: true }; });
    app.get('/own-cookie', async (req, reply) => {
      reply.header('set-cookie', 'a=b; Path=/');
      req.session.set('own', true);
      return { ok: true };
    });
    // A child plugin is encapsulated; the session plugin is not, so routes here have req.session too.
    await app.register(async (child) => {
      child.get<Q>('/child/set', async (req) => { req.session.set(req.query.k!, req.query.v); return { ok: true }; });
    }, { prefix: '' });
    await app.listen({ port: 0, host: '127.0.0.1' });
    port = portOf(app.server);
  });
  afterAll(async () => { await app?.close(); });

  it('sends a signed, HttpOnly, SameSite=Lax cookie (not Secure over http) and the session comes back with it', async () => {
    const first = await get(port, '/set?k=user&v=ann');
    expect(first.status).toBe(200);
    expect(first.cookies).toHaveLength(1);
    expect(first.cookies[0]).toMatch(new RegExp(`^${DEFAULT_COOKIE_NAME.replace('.', '\\.')}=[\\w-]{22,}\\.[\\w-]{43}; Path=/; HttpOnly; SameSite=Lax$`));
    const again = await get(port, '/all', cookieOf(first.cookies[0]));
    expect(again.json()).toEqual({ data: { user: 'ann' }, isNew: false });
    expect(again.cookies).toEqual([]); // nothing new to send
    const none = await get(port, '/all');
    expect([none.json(), none.cookies]).toEqual([{ data: {}, isNew: true }, []]);
  });

  it('a request that came over https (per the trusted proxy) gets a Secure cookie', async () => {
    const res = await get(port, '/set?k=a&v=1', { 'x-forwarded-proto': 'https' });
    expect(res.cookies[0]).toMatch(/; HttpOnly; Secure; SameSite=Lax$/);
  });

  it('routes of a child plugin see the same request.session', async () => {
    const headers = cookieOf((await get(port, '/set?k=a&v=1')).cookies[0]);
    expect((await get(port, '/child/set?k=b&v=2', headers)).status).toBe(200);
    expect((await get(port, '/all', headers)).json()).toEqual({ data: { a: '1', b: '2' }, isNew: false });
    // A new session started in the child plugin gets its cookie too.
    const fresh = await get(port, '/child/set?k=c&v=3');
    expect((await get(port, '/all', cookieOf(fresh.cookies[0]))).json<{ data: unknown }>().data).toEqual({ c: '3' });
  });

  it('a Set-Cookie the route sets itself is kept next to the session cookie', async () => {
    const res = await get(port, '/own-cookie');
    expect(res.cookies).toHaveLength(2);
    expect(res.cookies[0]).toBe('a=b; Path=/');
    expect(res.cookies[1]).toMatch(/^shoal\.sid=/);
  });

  it('a write over maxSessionBytes fails the request with SHOAL_ERR_SESSION_TOO_LARGE and leaves the session as it was', async () => {
    const headers = cookieOf((await get(port, '/set?k=keep&v=me')).cookies[0]);
    const res = await get(port, `/big?n=${MAX_BYTES * 2}`, headers);
    expect(res.status).toBe(500);
    expect(res.body).toMatch(/SHOAL_ERR_SESSION_TOO_LARGE|over the limit of 1024 bytes/);
    expect((await get(port, '/all', headers)).json()).toEqual({ data: { keep: 'me' }, isNew: false });
    // A smaller write still goes through afterwards.
    expect((await get(port, '/big?n=10', headers)).status).toBe(200);
  });
});

describe('shoal/express (ShoalStore) and express-session', () => {
  type Data = Record<string, unknown>;
  const servers: http.Server[] = [];

  /** `check`: where store.versionCheck() goes relative to session(), if anywhere. */
  async function start(store: session.Store, check?: 'before' | 'after'): Promise<number> {
    const app = express();
    if (check === 'before') app.use((store as ShoalStore).versionCheck());
    app.use(session({ store, secret: SECRET, resave: false, saveUninitialized: false }));
    if (check === 'after') app.use((store as ShoalStore).versionCheck());
    app.get('/visits', (req, res) => {
      const s = req.session as unknown as Data;
      s.visits = Number(s.visits ?? 0) + 1;
      res.json({ visits: s.visits });
    });
    app.get('/set', async (req, res) => {
      const q = req.query as Record<string, string>;
      await pause(q.delay); // overlaps this request with a parallel one of the same client
      (req.session as unknown as Data)[q.k!] = q.v;
      res.json({ ok: true });
    });
    app.get('/dump', (req, res) => res.json(req.session));
    const server = app.listen(0, '127.0.0.1');
    servers.push(server);
    await new Promise<void>((r) => server.once('listening', r));
    return portOf(server);
  }
  afterAll(async () => { await Promise.all(servers.map((s) => new Promise((r) => s.close(r)))); });

  /** Two parallel requests per round, same session, different keys: how many keys did not survive. */
  async function lostUnderParallelWrites(port: number, rounds: number): Promise<number> {
    const first = await get(port, '/set?k=init&v=1');
    const headers = cookieOf(first.cookies.find((c) => c.startsWith('connect.sid=')));
    let lost = 0;
    for (let i = 0; i < rounds; i++) {
      const replies = await Promise.all([
        get(port, `/set?k=a${i}&v=1&delay=20`, headers),
        get(port, `/set?k=b${i}&v=1&delay=5`, headers),
      ]);
      expect(replies.map((r) => r.status)).toEqual([200, 200]);
      const data = (await get(port, '/dump', headers)).json<Data>();
      lost += (data[`a${i}`] === '1' ? 0 : 1) + (data[`b${i}`] === '1' ? 0 : 1);
    }
    return lost;
  }

  it('counts visits across requests with the cookie', async () => {
    const port = await start(new ShoalStore());
    const first = await get(port, '/visits');
    expect(first.json()).toEqual({ visits: 1 });
    const headers = cookieOf(first.cookies[0]);
    expect(first.cookies[0]).toMatch(/^connect\.sid=s%3A.+; Path=\/; HttpOnly$/);
    expect((await get(port, '/visits', headers)).json()).toEqual({ visits: 2 });
    expect((await get(port, '/visits', headers)).json()).toEqual({ visits: 3 });
    expect((await get(port, '/visits')).json()).toEqual({ visits: 1 }); // another client
  });

  it('outside hosts sharing redis: no version cookie, and versionCheck() passes every request through', async () => {
    const port = await start(new ShoalStore(), 'before');
    const first = await get(port, '/visits', { cookie: 'connect.sid.v=0000000000000000.0000.x' });
    expect(first.cookies).toHaveLength(1);
    expect(first.cookies[0]).toMatch(/^connect\.sid=/);
    const headers = cookieOf(first.cookies[0]);
    expect((await get(port, '/visits', headers)).json()).toEqual({ visits: 2 });
  });

  it('versionCheck() used after session() says so once, as a ShoalWarning, and sessions still work', async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => { if (w.name === 'ShoalWarning') warnings.push(w); };
    process.on('warning', onWarning);
    try {
      const port = await start(new ShoalStore(), 'after');
      const first = await get(port, '/visits');
      expect((await get(port, '/visits', cookieOf(first.cookies[0]))).json()).toEqual({ visits: 2 });
      await new Promise((r) => setImmediate(r)); // warnings are emitted on the next tick
      expect(warnings.map((w) => w.message)).toEqual(['store.versionCheck() runs after session(), so it cannot pass the version on; app.use() it before session()']);
    } finally { process.off('warning', onWarning); }
  });

  it('a cookieName that is not a cookie name is refused, naming the option', () => {
    expect(() => new ShoalStore({ cookieName: 'a b' })).toThrow(expect.objectContaining({ code: 'SHOAL_ERR_SESSION_OPTIONS', message: expect.stringMatching(/cookieName/) }));
  });

  it('ShoalStore keeps both keys of parallel requests of one client: zero lost in 50 rounds', async () => {
    const port = await start(new ShoalStore());
    expect(await lostUnderParallelWrites(port, 50)).toBe(0);
  });

  it('express-session\'s MemoryStore, which saves the whole session, loses keys under the same pattern', async () => {
    // The contrast that shows the test above can fail: the later save writes back what it loaded.
    const port = await start(new session.MemoryStore());
    expect(await lostUnderParallelWrites(port, 50)).toBeGreaterThan(0);
  });
});
