/**
 * Client-side helpers for integration tests: real sockets only, every wait bounded.
 *
 * - request()/getJson(): one HTTP(S) request, by default on a new connection (agent: false).
 * - rawExchange(): write raw bytes on a TCP connection and collect what comes back until the
 *   server closes it or the time runs out (for timeout behaviour).
 * - openKeepAlive(): a raw keep-alive connection that made one request and now sits idle.
 * - wsEcho(): one WebSocket connection exchanging one message.
 * - process helpers to reap what a test started (by pid) when a test fails half way.
 */
import http, { type IncomingHttpHeaders } from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { readFileSync, readdirSync } from 'node:fs';
import type { TLSSocket } from 'node:tls';
import WebSocket from 'ws';

export const HOST = '127.0.0.1';

export interface HttpResult {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  /** Subject CN of the server certificate, for https. */
  peerCN?: string | undefined;
}

export interface RequestOptions {
  method?: string;
  headers?: http.OutgoingHttpHeaders;
  body?: string;
  /** false (default): a new connection for this request. */
  agent?: http.Agent | false;
  tls?: boolean;
  timeoutMs?: number;
  host?: string;
}

/** One request; rejects with a clear message on error or when `timeoutMs` (default 5000) passes. */
export function request(port: number, path: string, opts: RequestOptions = {}): Promise<HttpResult> {
  const timeoutMs = opts.timeoutMs ?? 5000;
  const mod = opts.tls ? https : http;
  const url = `${opts.tls ? 'https' : 'http'}://${opts.host ?? HOST}:${port}${path}`;
  return new Promise((resolve, reject) => {
    let done = false;
    const finish = (err: Error | null, r?: HttpResult): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (err) reject(err);
      else resolve(r!);
    };
    const req = mod.request(
      url,
      {
        method: opts.method ?? 'GET',
        headers: opts.headers,
        agent: opts.agent ?? false,
        ...(opts.tls ? { rejectUnauthorized: false } : {}),
      },
      (res) => {
        let peerCN: string | undefined;
        if (opts.tls) {
          const cert = (res.socket as TLSSocket).getPeerCertificate?.();
          const cn = cert?.subject?.CN;
          peerCN = Array.isArray(cn) ? cn[0] : cn;
        }
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => { body += c; });
        res.on('end', () => finish(null, { status: res.statusCode ?? 0, headers: res.headers, body, peerCN }));
        res.on('error', (e) => finish(new Error(`${url}: response error: ${e.message}`)));
      },
    );
    const timer = setTimeout(() => {
      finish(new Error(`${url}: no complete response within ${timeoutMs} ms`));
      req.destroy();
    }, timeoutMs);
    req.on('error', (e: NodeJS.ErrnoException) => finish(new Error(`${url}: ${e.code ?? ''} ${e.message}`.trim())));
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}

export interface JsonResult<T> extends HttpResult { json: T }

/** GET (by default on a new connection) and parse the body as JSON; rejects with the raw body if it is not JSON. */
export async function getJson<T = Record<string, unknown>>(port: number, path: string, opts: RequestOptions = {}): Promise<JsonResult<T>> {
  const r = await request(port, path, opts);
  let json: T;
  try {
    json = JSON.parse(r.body) as T;
  } catch {
    throw new Error(`GET ${path} on port ${port}: status ${r.status}, body is not JSON: ${JSON.stringify(r.body.slice(0, 500))}`);
  }
  return { ...r, json };
}

export interface RawResult {
  /** Everything the server sent. */
  data: string;
  /** The server closed (or reset) the connection before the time ran out. */
  closed: boolean;
  /** ms from connect until close (or until the time ran out). */
  elapsedMs: number;
  /** Socket error code if any (e.g. ECONNRESET, ECONNREFUSED). */
  error?: string | undefined;
}

/**
 * Connects, writes `payload`, then reads until the server closes the connection or `timeoutMs`
 * passes (then the client destroys it and `closed` is false).
 */
export function rawExchange(port: number, payload: string, timeoutMs: number, host = HOST): Promise<RawResult> {
  return new Promise((resolve) => {
    let t0 = Date.now();
    let data = '';
    let error: string | undefined;
    let done = false;
    const sock = net.connect(port, host, () => { t0 = Date.now(); sock.write(payload); });
    const finish = (closed: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve({ data, closed, elapsedMs: Date.now() - t0, error });
    };
    sock.setEncoding('utf8');
    sock.on('data', (c: string) => { data += c; });
    sock.on('error', (e: NodeJS.ErrnoException) => { error = e.code ?? e.message; });
    sock.on('close', () => finish(true));
    const timer = setTimeout(() => finish(false), timeoutMs);
  });
}

/** The status code of the first response in raw HTTP/1.1 bytes, or undefined if there is none. */
export function statusOf(raw: string): number | undefined {
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(raw);
  return m ? Number(m[1]) : undefined;
}

export interface KeepAliveConn {
  socket: net.Socket;
  /** Status and body of the first response. */
  status: number;
  body: string;
  /** Whether the server has closed the connection so far. */
  isClosed(): boolean;
  /** Resolves with ms since the response arrived when the connection closes. */
  closed: Promise<number>;
}

/**
 * Opens a keep-alive connection, makes one GET and reads the whole response (Content-Length framed),
 * then leaves the connection idle. The socket keeps reading, so a close by the server is seen.
 */
export function openKeepAlive(port: number, path: string, timeoutMs = 5000, host = HOST): Promise<KeepAliveConn> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, host, () => {
      socket.write(`GET ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nConnection: keep-alive\r\n\r\n`);
    });
    let buf = '';
    let responded = false;
    let isClosed = false;
    let respondedAt = 0;
    let resolveClosed!: (ms: number) => void;
    const closed = new Promise<number>((r) => { resolveClosed = r; });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`keep-alive GET ${path} on port ${port}: no complete response within ${timeoutMs} ms; got ${JSON.stringify(buf)}`));
    }, timeoutMs);
    socket.setEncoding('utf8');
    socket.on('error', () => { /* seen as close */ });
    socket.on('close', () => {
      isClosed = true;
      resolveClosed(Date.now() - respondedAt);
      if (!responded) {
        clearTimeout(timer);
        reject(new Error(`keep-alive GET ${path} on port ${port}: connection closed before a complete response; got ${JSON.stringify(buf)}`));
      }
    });
    socket.on('data', (c: string) => {
      if (responded) return;
      buf += c;
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buf.slice(0, end);
      const len = /\r\ncontent-length: *(\d+)/i.exec(head);
      if (!len) {
        clearTimeout(timer);
        socket.destroy();
        reject(new Error(`keep-alive GET ${path}: response without Content-Length: ${JSON.stringify(head)}`));
        return;
      }
      const body = buf.slice(end + 4);
      if (Buffer.byteLength(body) < Number(len[1])) return;
      responded = true;
      respondedAt = Date.now();
      clearTimeout(timer);
      resolve({ socket, status: statusOf(head) ?? 0, body, isClosed: () => isClosed, closed });
    });
  });
}

/** Opens a WebSocket, sends `message`, resolves with the first message received, then closes. */
export function wsEcho(port: number, message: string, timeoutMs = 5000, host = HOST): Promise<string> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://${host}:${port}/`);
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`WebSocket on port ${port}: no echo of ${JSON.stringify(message)} within ${timeoutMs} ms (readyState ${ws.readyState})`));
    }, timeoutMs);
    ws.on('open', () => ws.send(message));
    ws.on('message', (data) => {
      clearTimeout(timer);
      ws.close();
      resolve(String(data));
    });
    ws.on('unexpected-response', (_req, res) => {
      clearTimeout(timer);
      ws.terminate();
      reject(new Error(`WebSocket on port ${port}: upgrade refused with HTTP ${res.statusCode}`));
    });
    ws.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`WebSocket on port ${port}: ${e.message}`));
    });
  });
}

/** Runs `fn` over `items` with at most `concurrency` at a time; keeps the order of results. */
export async function mapLimit<T, R>(items: readonly T[], concurrency: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  });
  await Promise.all(lanes);
  return out;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `pred` every 50 ms until it holds; throws `what` after `timeoutMs`. */
export async function waitFor(pred: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await pred()) return;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

/**
 * The fields of /proc/<pid>/stat after the command, from the state (field 3)
 * on: the command is cut at its last ')', since it may hold spaces and ')'.
 */
export function statFields(pid: number | string): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** True if a process with this pid exists (and is not a zombie we could still see in /proc). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return statFields(pid)[0] !== 'Z';
  } catch {
    return true;
  }
}

/** Pids of every live descendant of `pid` (Linux /proc; empty elsewhere). */
export function descendants(pid: number): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  } catch {
    return [];
  }
  const parentOf = new Map<number, number>();
  for (const e of entries) {
    try {
      parentOf.set(Number(e), Number(statFields(e)[1]));
    } catch { /* gone */ }
  }
  const out: number[] = [];
  const walk = (p: number): void => {
    for (const [child, parent] of parentOf) if (parent === p) { out.push(child); walk(child); }
  };
  walk(pid);
  return out;
}

/** SIGKILLs each listed pid that is still alive (only pids the test itself started). Returns those it killed. */
export function reap(pids: Iterable<number>): number[] {
  const killed: number[] = [];
  for (const pid of pids) {
    if (pid > 0 && pid !== process.pid && isAlive(pid)) {
      try { process.kill(pid, 'SIGKILL'); killed.push(pid); } catch { /* already gone */ }
    }
  }
  return killed;
}
