/**
 * The HAProxy agent-check server (--agent [HOST:]PORT). HAProxy connects
 * every `agent-inter`, may send a line (`agent-send`), reads one line and
 * expects the agent to close:
 *
 *   haproxy ---- connect ----> agent
 *           <--- "up ready 72%\n" (written at once, whatever is sent)
 *           <--- FIN
 *
 * Bounded like the admin server: the answer is written on connect without
 * waiting for input (anything sent is read and dropped), a peer that does
 * not read is cut after timeoutMs, and connections are capped in number.
 * It tells nothing but a weight, so unlike --admin it needs no token off
 * the loopback.
 */
import net from 'node:net';
import type { Logger } from 'pino';
import { ShoalError } from '../errors.js';
import { formatHostPort } from '../admin/address.js';

/** HAProxy opens one connection per server per agent-inter: a handful at a time is plenty. */
export const MAX_AGENT_CONNECTIONS = 16;

export interface AgentServerOptions {
  readonly host: string;
  readonly port: number;
  readonly timeoutMs: number;
}

export interface AgentServer {
  /** host:port as bound (port 0 picks a free one). */
  readonly address: string;
  readonly port: number;
  close(): Promise<void>;
}

export async function startAgentServer(o: AgentServerOptions, answer: () => string, log: Logger): Promise<AgentServer> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.setTimeout(o.timeoutMs, () => socket.destroy());
    socket.resume();
    let line: string;
    try { line = answer(); } catch (e) {
      log.error({ err: (e as Error).message }, 'agent answer failed');
      socket.destroy();
      return;
    }
    socket.end(line);
  });
  server.maxConnections = MAX_AGENT_CONNECTIONS;
  const where = formatHostPort(o.host, o.port);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      reject(new ShoalError('SHOAL_ERR_AGENT_LISTEN', where, e.code === 'EADDRINUSE' ? 'the port is already in use' : e.code === 'EACCES' ? 'not permitted (ports below 1024 need privileges)' : e.message));
    });
    server.listen({ host: o.host, port: o.port }, resolve);
  });
  server.on('error', (e) => log.warn({ err: e.message }, 'agent server error'));
  const bound = server.address() as net.AddressInfo;
  return {
    address: formatHostPort(bound.address, bound.port),
    port: bound.port,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const s of sockets) s.destroy();
    }),
  };
}
