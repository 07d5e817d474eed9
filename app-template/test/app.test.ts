// The app in this process through app.inject (no port, no cluster): fast,
// and the same routes and session plugin as in production.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';

let app: FastifyInstance;
beforeAll(async () => { app = await buildApp({ sessionSecret: 'a-test-secret-of-at-least-32-characters' }); });
afterAll(async () => { await app.close(); });

/** The `name=value` part of the session cookie a response set. */
function sessionCookie(setCookie: string | string[] | undefined): string {
  const line = [setCookie ?? []].flat().find((l) => l.startsWith('shoal.sid='));
  if (!line) throw new Error('no session cookie was set');
  return line.split(';')[0]!;
}

describe('routes', () => {
  it('GET / says hello and names the worker (0 outside a cluster)', async () => {
    const r = await app.inject({ url: '/' });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual({ hello: 'world', worker: 0 });
  });

  it('GET /health answers ok', async () => {
    const r = await app.inject({ url: '/health' });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual({ ok: true });
  });

  it('GET /visits counts the visits of one session', async () => {
    const first = await app.inject({ url: '/visits' });
    expect(first.json()).toEqual({ visits: 1, worker: 0 });
    const cookie = sessionCookie(first.headers['set-cookie']);
    for (const n of [2, 3]) {
      const r = await app.inject({ url: '/visits', headers: { cookie } });
      expect(r.json()).toEqual({ visits: n, worker: 0 });
    }
    // Another client (no cookie) starts at 1.
    expect((await app.inject({ url: '/visits' })).json()).toEqual({ visits: 1, worker: 0 });
  });
});

describe('config', () => {
  it('refuses to start in production without SESSION_SECRET', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/SESSION_SECRET is not set/);
  });

  it('uses a development secret otherwise, and says so', () => {
    const c = loadConfig({});
    expect(c.devSecret).toBe(true);
    expect(c.sessionSecret.length).toBeGreaterThanOrEqual(32);
    expect(loadConfig({ SESSION_SECRET: 'x'.repeat(40), PORT: '8080' })).toMatchObject({ devSecret: false, port: 8080 });
  });

  it('rejects a PORT that is not a port', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/PORT must be a port number/);
  });
});
