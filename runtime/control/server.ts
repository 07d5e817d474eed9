/**
 * The primary's control server on its Unix socket (mode 0600 in an
 * owner-only folder). Each connection carries one request; see protocol.ts.
 */
import fs from 'node:fs';
import net from 'node:net';
import type { Logger } from 'pino';
import { isShoalError, ShoalError } from '../errors.js';
import { isReply, MAX_LINE_BYTES, parseRequest, REQUEST_TIMEOUT_MS, type ControlEvent, type ControlReply, type ControlRequest } from './protocol.js';

export type ControlHandler = (req: ControlRequest, progress: (e: ControlEvent) => void) => Promise<Record<string, unknown>>;

/** Resolves true when something answers on the socket (a live cluster), false when it is stale or absent. */
export function probe(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(path);
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

export async function startControlServer(path: string, name: string, handle: ControlHandler, log: Logger): Promise<net.Server> {
  if (fs.existsSync(path)) {
    if (await probe(path)) throw new ShoalError('SHOAL_ERR_NAME_IN_USE', name);
    fs.rmSync(path, { force: true }); // stale: its primary died without cleaning up
  }
  const server = net.createServer((sock) => serve(sock, handle, log));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => { server.off('error', reject); resolve(); });
  });
  fs.chmodSync(path, 0o600);
  server.on('close', () => fs.rmSync(path, { force: true }));
  // An accept that fails (out of descriptors) leaves the server listening; it must not end the primary.
  server.on('error', (err) => log.warn({ err: err.message }, 'control socket: accept failed'));
  return server;
}

function serve(sock: net.Socket, handle: ControlHandler, log: Logger): void {
  let buf = '';
  let done = false;
  const reply = (r: ControlReply): void => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    sock.end(`${JSON.stringify(r)}\n`);
  };
  const timer = setTimeout(() => reply({ ok: false, code: 'SHOAL_ERR_CONTROL_BAD_REQUEST', error: `no complete request line within ${REQUEST_TIMEOUT_MS} ms` }), REQUEST_TIMEOUT_MS);
  sock.setEncoding('utf8');
  sock.on('error', () => { done = true; clearTimeout(timer); });
  sock.on('end', () => { if (!done) reply({ ok: false, code: 'SHOAL_ERR_CONTROL_BAD_REQUEST', error: 'the request ended before a full line' }); });
  sock.on('data', (chunk: string) => {
    if (done) return;
    buf += chunk;
    const nl = buf.indexOf('\n');
    if (nl < 0) {
      if (Buffer.byteLength(buf) > MAX_LINE_BYTES) reply({ ok: false, code: 'SHOAL_ERR_CONTROL_BAD_REQUEST', error: `request larger than ${MAX_LINE_BYTES} bytes` });
      return;
    }
    clearTimeout(timer);
    const req = parseRequest(buf.slice(0, nl));
    if (isReply(req)) { reply(req); return; }
    sock.pause();
    const progress = (e: ControlEvent): void => { if (!done && sock.writable) sock.write(`${JSON.stringify(e)}\n`); };
    handle(req, progress).then(
      (result) => reply({ ok: true, ...result }),
      (err: unknown) => {
        if (!isShoalError(err)) log.error({ err: (err as Error).message, cmd: req.cmd }, 'control command failed');
        const app = isShoalError(err) ? err.app : undefined;
        reply({ ok: false, code: isShoalError(err) ? err.code : 'SHOAL_ERR_INTERNAL', error: (err as Error).message, ...(app ? { app } : {}) });
      },
    );
  });
}
