/**
 * The CLI side of the control socket: find the cluster, send one request,
 * stream progress events, return the final reply.
 */
import net from 'node:net';
import { ShoalError } from '../errors.js';
import { listClusterNames, runtimeDir, socketPath } from './paths.js';
import type { ControlEvent, ControlReply, ControlRequest } from './protocol.js';

/** The socket of the named cluster, or of the only one running when no name is given. */
export function resolveSocket(name: string | undefined, env = process.env): { name: string; path: string } {
  const dir = runtimeDir(env);
  if (name !== undefined) return { name, path: socketPath(dir, name) };
  const names = listClusterNames(dir);
  if (names.length === 0) throw new ShoalError('SHOAL_ERR_NO_CLUSTER', 'any name', dir);
  if (names.length > 1) throw new ShoalError('SHOAL_ERR_AMBIGUOUS_CLUSTER', names.join(', '));
  return { name: names[0]!, path: socketPath(dir, names[0]!) };
}

export function controlRequest(
  name: string | undefined, req: ControlRequest, onEvent: (e: ControlEvent) => void = () => {}, env = process.env,
): Promise<ControlReply> {
  const target = resolveSocket(name, env);
  return new Promise((resolve, reject) => {
    const sock = net.connect(target.path);
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
      if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') reject(new ShoalError('SHOAL_ERR_NO_CLUSTER', `'${target.name}'`, target.path));
      else reject(err);
    });
    sock.once('close', () => {
      if (final) resolve(final);
      else reject(new ShoalError('SHOAL_ERR_CONTROL_LOST', target.name));
    });
  });
}
