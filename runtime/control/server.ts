/**
 * The primary's control server on its Unix socket (mode 0600 in an
 * owner-only folder). Each connection carries one request; see protocol.ts.
 */
import fs from 'node:fs';
import net from 'node:net';
import type { Logger } from 'pino';
import { isShoalError, ShoalError } from '../errors.js';
import { CLOSE_GRACE_MS, isReply, isStreaming, MAX_LINE_BYTES, parseRequest, REQUEST_TIMEOUT_MS, type ControlEvent, type ControlReply, type ControlRequest } from './protocol.js';

/** One connection as a handler that streams sees it: it writes as fast as the client reads, and notices when the client is gone. */
export interface ControlChannel {
  /** Sends an event; false once the connection's buffer is full (wait for drained() before sending more). */
  send(e: ControlEvent): boolean;
  /** Bytes sent that the client has not taken yet. */
  readonly pendingBytes: number;
  /** Resolves once the buffer has room again, or the client is gone. */
  drained(): Promise<void>;
  /** Aborted when the client goes away (for a streaming request, when it closes its end). */
  readonly gone: AbortSignal;
}

export type ControlHandler = (req: ControlRequest, progress: (e: ControlEvent) => void, channel: ControlChannel) => Promise<Record<string, unknown>>;

export interface ControlServer {
  /** No new connection; those still open get CLOSE_GRACE_MS to send their last reply, then are cut. */
  close(): void;
}

/** Resolves true when something answers on the socket (a live cluster), false when it is stale or absent. */
export function probe(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(path);
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

export async function startControlServer(path: string, name: string, handle: ControlHandler, log: Logger): Promise<ControlServer> {
  if (fs.existsSync(path)) {
    if (await probe(path)) throw new ShoalError('SHOAL_ERR_NAME_IN_USE', name);
    fs.rmSync(path, { force: true }); // stale: its primary died without cleaning up
  }
  const open = new Set<net.Socket>();
  const server = net.createServer((sock) => {
    open.add(sock);
    sock.once('close', () => open.delete(sock));
    serve(sock, handle, log);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => { server.off('error', reject); resolve(); });
  });
  fs.chmodSync(path, 0o600);
  // An accept that fails (out of descriptors) leaves the server listening; it must not end the primary.
  server.on('error', (err) => log.warn({ err: err.message }, 'control socket: accept failed'));
  return {
    close() {
      server.close();
      fs.rmSync(path, { force: true });
      // A client that reads nothing must not keep the primary from exiting.
      setTimeout(() => { for (const s of open) s.destroy(); }, CLOSE_GRACE_MS).unref();
    },
  };
}

function channelOf(sock: net.Socket, isDone: () => boolean): ControlChannel {
  const gone = new AbortController();
  sock.once('close', () => gone.abort());
  return {
    send: (e) => (!isDone() && sock.writable ? sock.write(`${JSON.stringify(e)}\n`) : false),
    get pendingBytes() { return sock.writableLength; },
    drained: () => new Promise((resolve) => {
      if (gone.signal.aborted || !sock.writableNeedDrain) { resolve(); return; }
      const go = (): void => { sock.off('drain', go); gone.signal.removeEventListener('abort', go); resolve(); };
      sock.on('drain', go);
      gone.signal.addEventListener('abort', go);
    }),
    gone: gone.signal,
  };
}

function serve(sock: net.Socket, handle: ControlHandler, log: Logger): void {
  let buf = '';
  let done = false;
  let parsed = false;
  const reply = (r: ControlReply): void => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    sock.end(`${JSON.stringify(r)}\n`);
  };
  const timer = setTimeout(() => reply({ ok: false, code: 'SHOAL_ERR_CONTROL_BAD_REQUEST', error: `no complete request line within ${REQUEST_TIMEOUT_MS} ms` }), REQUEST_TIMEOUT_MS);
  const channel = channelOf(sock, () => done);
  sock.setEncoding('utf8');
  sock.on('error', () => { done = true; clearTimeout(timer); });
  // Once a streaming request is under way, the client ending its side is how it leaves (Ctrl-C).
  sock.on('end', () => { if (!done && !parsed) reply({ ok: false, code: 'SHOAL_ERR_CONTROL_BAD_REQUEST', error: 'the request ended before a full line' }); });
  sock.on('data', (chunk: string) => {
    if (done || parsed) return;
    buf += chunk;
    const nl = buf.indexOf('\n');
    if (nl < 0) {
      if (Buffer.byteLength(buf) > MAX_LINE_BYTES) reply({ ok: false, code: 'SHOAL_ERR_CONTROL_BAD_REQUEST', error: `request larger than ${MAX_LINE_BYTES} bytes` });
      return;
    }
    clearTimeout(timer);
    const req = parseRequest(buf.slice(0, nl));
    if (isReply(req)) { reply(req); return; }
    parsed = true;
    buf = '';
    // A paused socket stops reading once its buffer is full (a client that sent more after its
    // request), and then its client's leaving goes unnoticed until a write fails: a streaming
    // request's connection keeps flowing, what comes on it ignored. Any other waits for its reply.
    if (!isStreaming(req)) sock.pause();
    handle(req, (e) => { channel.send(e); }, channel).then(
      (result) => reply({ ok: true, ...result }),
      (err: unknown) => {
        if (!isShoalError(err)) log.error({ err: (err as Error).message, cmd: req.cmd }, 'control command failed');
        const app = isShoalError(err) ? err.app : undefined;
        reply({ ok: false, code: isShoalError(err) ? err.code : 'SHOAL_ERR_INTERNAL', error: (err as Error).message, ...(app ? { app } : {}) });
      },
    );
  });
}
