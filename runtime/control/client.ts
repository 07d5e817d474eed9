/**
 * The CLI side of the control socket: find the cluster, send one request,
 * stream progress events, return the final reply.
 */
import fs from 'node:fs';
import net from 'node:net';
import { ShoalError } from '../errors.js';
import { listClusterNames, runtimeDir, socketPath } from './paths.js';
import { isStreaming, type ControlEvent, type ControlReply, type ControlRequest } from './protocol.js';

/**
 * Whether a cluster answers on the socket. A socket file nobody listens on
 * (its primary was killed before it could clean up) is stale: it is removed.
 */
function live(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(path);
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNREFUSED') fs.rmSync(path, { force: true });
      resolve(false);
    });
  });
}

/** The clusters answering in `dir`, by name. */
async function liveNames(dir: string): Promise<string[]> {
  const all = listClusterNames(dir);
  const alive = await Promise.all(all.map((n) => live(socketPath(dir, n))));
  return all.filter((_n, i) => alive[i]);
}

/** The named cluster does not answer: say which ones do, if any. */
async function noSuchCluster(name: string, env: NodeJS.ProcessEnv): Promise<ShoalError> {
  const dir = runtimeDir(env);
  return new ShoalError('SHOAL_ERR_NO_CLUSTER', name, dir, (await liveNames(dir)).filter((n) => n !== name).join(', '));
}

/** The socket of the named cluster, or of the only one running when no name is given. */
export async function resolveSocket(name: string | undefined, env = process.env): Promise<{ name: string; path: string }> {
  const dir = runtimeDir(env);
  if (name !== undefined) return { name, path: socketPath(dir, name) };
  const names = await liveNames(dir);
  if (names.length === 0) throw new ShoalError('SHOAL_ERR_NO_CLUSTER', '', dir, '');
  if (names.length > 1) throw new ShoalError('SHOAL_ERR_AMBIGUOUS_CLUSTER', names.join(', '));
  return { name: names[0]!, path: socketPath(dir, names[0]!) };
}

/**
 * Sends `req` to the cluster and resolves with its final reply, calling
 * `onEvent` for each progress line before it. `signal` ends the request
 * early (Ctrl-C on `logs -f`): the connection is closed, which is how the
 * primary learns that the client is gone, and the promise rejects with the
 * signal's reason.
 */
export async function controlRequest(
  name: string | undefined, req: ControlRequest, onEvent: (e: ControlEvent) => void = () => {}, env = process.env, signal?: AbortSignal,
): Promise<ControlReply> {
  const target = await resolveSocket(name, env);
  return new Promise((resolve, reject) => {
    const sock = net.connect(target.path);
    let failed = false;
    const abort = (): void => { failed = true; sock.destroy(); reject(signal!.reason); };
    if (signal?.aborted) { abort(); return; }
    signal?.addEventListener('abort', abort, { once: true });
    let buf = '';
    let final: ControlReply | undefined;
    sock.setEncoding('utf8');
    sock.once('connect', () => sock.write(`${JSON.stringify(req)}\n`));
    sock.on('data', (chunk: string) => {
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const msg = JSON.parse(line) as Record<string, unknown>;
        if ('ok' in msg) final = msg as ControlReply;
        else onEvent(msg as ControlEvent);
      }
    });
    sock.once('error', (err: NodeJS.ErrnoException) => {
      failed = true;
      if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') void noSuchCluster(target.name, env).then(reject);
      else reject(err);
    });
    sock.once('close', () => {
      signal?.removeEventListener('abort', abort);
      if (final) resolve(final);
      // A stream ends only when the cluster does: a primary killed outright sends no reply first.
      else if (!failed) reject(new ShoalError(isStreaming(req) ? 'SHOAL_ERR_CLUSTER_STOPPED' : 'SHOAL_ERR_CONTROL_LOST', target.name));
    });
  });
}
