/**
 * A raw TCP handle (handed off by the primary, or accepted from the shared
 * socket) turned into the net.Socket the app's server would have made of it.
 * What node's own net onconnection does for a listening server is done here:
 * the socket options the server asks for, the connection count behind
 * server.getConnections() and maxConnections, and socket.server. Emitting
 * 'connection' is left to the caller, which counts the connection first.
 */
import net from 'node:net';

interface ServerInternals { _connections: number; allowHalfOpen?: boolean; pauseOnConnect?: boolean }
interface SocketInternals { server?: net.Server; _server?: net.Server }

/**
 * A server's noDelay/keepAlive options, which net applies to each accepted
 * socket. Node 20 keeps them in public fields (noDelay, keepAlive,
 * keepAliveInitialDelay in seconds); later versions behind private symbols
 * (kSetNoDelay, …), found here by description. Missing them costs dearly:
 * http servers turn Nagle off by default, and a response written in two
 * pieces then waits for the client's delayed ACK (~40 ms).
 */
function serverFlag(server: net.Server, field: string, description: string): unknown {
  for (const s of Object.getOwnPropertySymbols(server)) {
    if (s.description === description) return (server as unknown as Record<symbol, unknown>)[s];
  }
  return (server as unknown as Record<string, unknown>)[field];
}

interface SocketFlags { readonly noDelay: boolean; readonly keepAlive: boolean; readonly keepAliveDelayMs: number }
/** Looked up once per server, not per connection. */
const flagsCache = new WeakMap<net.Server, SocketFlags>();
function socketFlags(server: net.Server): SocketFlags {
  let f = flagsCache.get(server);
  if (!f) {
    const delay = serverFlag(server, 'keepAliveInitialDelay', 'kSetKeepAliveInitialDelay');
    f = {
      noDelay: serverFlag(server, 'noDelay', 'kSetNoDelay') === true,
      keepAlive: serverFlag(server, 'keepAlive', 'kSetKeepAlive') === true,
      keepAliveDelayMs: typeof delay === 'number' ? delay * 1000 : 0,
    };
    flagsCache.set(server, f);
  }
  return f;
}

/** The socket of `handle`, counted as one of `server`'s connections. */
export function socketOf(server: net.Server, handle: unknown): net.Socket {
  const s = server as unknown as ServerInternals;
  // `handle` is an undocumented SocketConstructorOpts field; node's own cluster child uses it the same way.
  const socket = new net.Socket({
    handle,
    readable: true,
    writable: true,
    allowHalfOpen: s.allowHalfOpen ?? false,
    pauseOnCreate: s.pauseOnConnect ?? false,
  } as unknown as net.SocketConstructorOpts);
  const flags = socketFlags(server);
  if (flags.noDelay) socket.setNoDelay(true);
  if (flags.keepAlive) socket.setKeepAlive(true, flags.keepAliveDelayMs);
  s._connections++;
  const si = socket as unknown as SocketInternals;
  si.server = server;
  si._server = server;
  return socket;
}
