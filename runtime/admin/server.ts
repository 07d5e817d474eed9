/**
 * The admin HTTP server (node:http, in the primary). It must never disturb
 * the cluster, whatever it is sent:
 *
 * - GET and HEAD on the views, POST on the actions only (405 with Allow
 *   otherwise), known paths only (404);
 * - headers bounded in size (node answers 431 past it) and in time, the
 *   whole request bounded in time, connections bounded in number, a POST's
 *   body bounded in size (413);
 * - with a token, every request must carry `Authorization: Bearer <token>`
 *   or the dashboard's sign-in cookie (auth.ts), else 401 before anything
 *   else is looked at; `/` and `/signin` then answer with the sign-in. The
 *   open paths (the health probes) are the exception: a kubelet or a
 *   balancer's check must not need the secret, and they tell only whether
 *   the host serves;
 * - a route that throws gets a 500, logged; nothing reaches the primary's loop.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { ShoalError } from '../errors.js';
import { adminUrl, formatHostPort } from './address.js';
import { AdminAuth } from './auth.js';
import { signInRoute } from './sign-in.js';

export interface Reply {
  readonly status: number;
  readonly type: string;
  readonly body: string;
  readonly headers?: Readonly<Record<string, string>>;
}

/** What a route is asked with. */
export interface Asked {
  readonly query: URLSearchParams;
  readonly headers: http.IncomingHttpHeaders;
  /** A POST's body (bounded by MAX_BODY_BYTES); '' otherwise. */
  readonly body: string;
}

export type Route = (query: URLSearchParams, asked: Asked) => Reply | Promise<Reply>;

/** A route that keeps its response open (server-sent events); it must end it or let the client close it. */
export type StreamRoute = (req: http.IncomingMessage, res: http.ServerResponse) => void;

export interface AdminRoutes {
  readonly get: ReadonlyMap<string, Route>;
  readonly post?: ReadonlyMap<string, Route>;
  readonly stream?: ReadonlyMap<string, StreamRoute>;
  /** GET paths answered without the token. */
  readonly open?: ReadonlySet<string>;
}

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

/** A POST's body: a sign-in's token or a worker count, nothing more. */
export const MAX_BODY_BYTES = 4096;

export const text = (status: number, body: string): Reply => ({ status, type: 'text/plain; charset=utf-8', body });

export interface AdminServer {
  /** The URL it answers on (the port as bound: --admin HOST:0 picks a free one); never the token. */
  readonly url: string;
  close(): Promise<void>;
}

function readBody(req: http.IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) { resolve(undefined); req.removeAllListeners('data'); req.resume(); return; }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export async function startAdminServer(o: AdminServerOptions, routes: AdminRoutes, log: Logger): Promise<AdminServer> {
  const auth = new AdminAuth(o.token);
  const post = routes.post ?? new Map<string, Route>();
  const stream = routes.stream ?? new Map<string, StreamRoute>();
  const known = [...routes.get.keys(), ...stream.keys(), ...post.keys()];
  const open = routes.open ?? new Set<string>();

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse, send: (r: Reply) => void): Promise<void> => {
    const raw = req.url ?? '/';
    const q = raw.indexOf('?');
    const path = q < 0 ? raw : raw.slice(0, q);
    const query = new URLSearchParams(q < 0 ? '' : raw.slice(q + 1));
    const isPost = post.has(path) || (auth.enabled && path === '/signin');
    const body = req.method === 'POST' && isPost ? await readBody(req) : '';
    if (body === undefined) { send(text(413, `body too large: at most ${MAX_BODY_BYTES} bytes\n`)); return; }
    const asked: Asked = { query, headers: req.headers, body };
    if (!open.has(path) && !auth.allows(req)) {
      const signIn = auth.enabled && (path === '/' || path === '/signin') ? signInRoute(auth, path, req.method ?? '', asked) : undefined;
      send(signIn ?? { ...text(401, 'unauthorized: send Authorization: Bearer <token>\n'), headers: { 'www-authenticate': 'Bearer realm="shoal"' } });
      return;
    }
    if (isPost) {
      const route = post.get(path);
      if (req.method !== 'POST') send({ ...text(405, `method ${req.method ?? ''} not allowed: POST\n`), headers: { allow: 'POST' } });
      else if (route) send(await route(query, asked));
      else send({ status: 303, type: 'text/plain; charset=utf-8', body: 'signed in\n', headers: { location: '/' } });
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') { send({ ...text(405, `method ${req.method ?? ''} not allowed: GET or HEAD\n`), headers: { allow: 'GET, HEAD' } }); return; }
    const streamRoute = stream.get(path);
    if (streamRoute && req.method === 'GET') { streamRoute(req, res); return; }
    if (streamRoute) { send({ status: 200, type: 'text/event-stream; charset=utf-8', body: '' }); return; }
    const route = routes.get.get(path);
    if (!route) { send(text(404, `not found; try ${known.join(', ')}\n`)); return; }
    send(await route(query, asked));
  };

  const server = http.createServer({
    maxHeaderSize: o.maxHeaderBytes,
    requestTimeout: o.requestTimeoutMs,
    headersTimeout: o.headersTimeoutMs,
  }, (req, res) => {
    const send = (r: Reply): void => {
      if (res.headersSent) return;
      res.writeHead(r.status, { 'content-type': r.type, 'content-length': Buffer.byteLength(r.body), 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', ...r.headers });
      res.end(r.body);
    };
    handle(req, res, send).catch((e: unknown) => {
      log.error({ err: (e as Error).message, path: (req.url ?? '').split('?')[0]!.slice(0, 200) }, 'admin request failed');
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
