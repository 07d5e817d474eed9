/**
 * The admin HTTP server (node:http, in the primary). It must never disturb
 * the cluster, whatever it is sent:
 *
 * - only GET and HEAD (405 with Allow otherwise), known paths only (404);
 * - headers bounded in size (node answers 431 past it) and in time, the
 *   whole request bounded in time, connections bounded in number;
 * - with a token, every request must carry `Authorization: Bearer <token>`
 *   (compared in constant time), else 401 before anything else is looked at;
 * - a route that throws gets a 500, logged; nothing reaches the primary's loop.
 */
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { ShoalError } from '../errors.js';
import { adminUrl, formatHostPort } from './address.js';

export interface Reply {
  readonly status: number;
  readonly type: string;
  readonly body: string;
}

export type Route = (query: URLSearchParams) => Reply | Promise<Reply>;

export interface AdminServerOptions {
  readonly host: string;
  readonly port: number;
  readonly token: string | undefined;
  readonly requestTimeoutMs: number;
  readonly headersTimeoutMs: number;
  readonly maxHeaderBytes: number;
}

/** Admin clients are a scraper, a probe and a person or two: past this, new connections wait in the kernel's queue. */
export const MAX_ADMIN_CONNECTIONS = 32;

export const text = (status: number, body: string): Reply => ({ status, type: 'text/plain; charset=utf-8', body });

/** Hashing both sides first gives equal lengths, as timingSafeEqual needs, without revealing the token's length. */
const digest = (s: string): Buffer => crypto.createHash('sha256').update(s).digest();

export interface AdminServer {
  /** The URL it answers on (the port as bound: --admin HOST:0 picks a free one); never the token. */
  readonly url: string;
  close(): Promise<void>;
}

export async function startAdminServer(o: AdminServerOptions, routes: ReadonlyMap<string, Route>, log: Logger): Promise<AdminServer> {
  const expected = o.token === undefined ? undefined : digest(`Bearer ${o.token}`);
  const authorized = (req: http.IncomingMessage): boolean =>
    expected === undefined || crypto.timingSafeEqual(digest(req.headers.authorization ?? ''), expected);

  const server = http.createServer({
    maxHeaderSize: o.maxHeaderBytes,
    requestTimeout: o.requestTimeoutMs,
    headersTimeout: o.headersTimeoutMs,
  }, (req, res) => {
    const send = (r: Reply, headers: Record<string, string> = {}): void => {
      if (res.headersSent) return;
      res.writeHead(r.status, { 'content-type': r.type, 'content-length': Buffer.byteLength(r.body), 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', ...headers });
      res.end(r.body);
    };
    if (!authorized(req)) { send(text(401, 'unauthorized: send Authorization: Bearer <token>\n'), { 'www-authenticate': 'Bearer realm="shoal"' }); return; }
    if (req.method !== 'GET' && req.method !== 'HEAD') { send(text(405, `method ${req.method ?? ''} not allowed: GET or HEAD\n`), { allow: 'GET, HEAD' }); return; }
    const raw = req.url ?? '/';
    const q = raw.indexOf('?');
    const route = routes.get(q < 0 ? raw : raw.slice(0, q));
    if (!route) { send(text(404, `not found; try ${[...routes.keys()].join(', ')}\n`)); return; }
    Promise.resolve()
      .then(() => route(new URLSearchParams(q < 0 ? '' : raw.slice(q + 1))))
      .then((r) => send(r), (e: unknown) => {
        log.error({ err: (e as Error).message, path: raw.slice(0, 200) }, 'admin request failed');
        send(text(500, 'internal error\n'));
      });
  });
  server.maxConnections = MAX_ADMIN_CONNECTIONS;
  const where = formatHostPort(o.host, o.port);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EADDRINUSE') reject(new ShoalError('SHOAL_ERR_ADMIN_PORT_IN_USE', where));
      else reject(new ShoalError('SHOAL_ERR_ADMIN_LISTEN', where, e.code === 'EACCES' ? 'not permitted (ports below 1024 need privileges)' : e.message));
    });
    server.listen({ host: o.host, port: o.port }, resolve);
  });
  server.on('error', (e) => log.warn({ err: e.message }, 'admin server error'));
  const bound = server.address() as AddressInfo;
  return {
    url: adminUrl(bound.address, bound.port),
    close: () => new Promise<void>((resolve) => { server.close(() => resolve()); server.closeAllConnections(); }),
  };
}
