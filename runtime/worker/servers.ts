/**
 * Listen interception: the one patch of another module's object the design
 * allows (DESIGN.md point 2). `listen()` on the port shoal serves does not
 * bind; the server is registered to receive the sockets the primary hands
 * over, and is made to look and behave like a listening server:
 *
 * - `_handle` is a stand-in with getsockname/close/ref/unref, so `address()`
 *   reports the real port, `listening` is true and `close(cb)` works;
 * - `listening` is emitted, which is what makes http.Server start enforcing
 *   headersTimeout/requestTimeout and track connections for
 *   closeIdleConnections() (both hang off its 'listening' listener).
 *
 * Any other port, a pipe or a handle goes to the real listen untouched.
 */
import net from 'node:net';
import type { WorkerState } from './state.js';

export interface ListenTarget {
  /** The port shoal serves; a listen on it is intercepted. */
  readonly port: number;
  /** Address and family the primary really bound, reported by address(). */
  readonly address: string;
  readonly family: 'IPv4' | 'IPv6';
}

type ListenArgs = unknown[];

/** Extracts the port a listen() call asks for, or undefined for pipes, handles and fds. */
export function listenPort(args: ListenArgs): number | undefined {
  const first = args[0];
  let raw: unknown = first;
  if (typeof first === 'object' && first !== null) {
    const o = first as { port?: unknown; path?: unknown; handle?: unknown; _handle?: unknown; fd?: unknown };
    if (o.path !== undefined || o.handle !== undefined || o._handle !== undefined || o.fd !== undefined) return undefined;
    raw = o.port;
  }
  if (typeof raw === 'number') return raw;
  if (typeof raw === 'string' && /^\d+$/.test(raw)) return Number(raw);
  return undefined;
}

interface Internals { _handle: unknown; _connectionKey?: string }

/** The stand-in for a bound TCP handle. */
class AdoptedHandle {
  readonly #server: net.Server;
  readonly #target: ListenTarget;
  readonly #onClose: (s: net.Server) => void;
  constructor(server: net.Server, target: ListenTarget, onClose: (s: net.Server) => void) {
    this.#server = server;
    this.#target = target;
    this.#onClose = onClose;
  }
  getsockname(out: Record<string, unknown>): number {
    out.address = this.#target.address;
    out.family = this.#target.family;
    out.port = this.#target.port;
    return 0;
  }
  close(cb?: () => void): void {
    this.#onClose(this.#server);
    if (cb) process.nextTick(cb);
  }
  ref(): void {}
  unref(): void {}
}

export interface InterceptHooks {
  /** A server listened on the shoal port. */
  adopted(server: net.Server): void;
  /** A registered server was closed by the app. */
  released(server: net.Server): void;
  /** The app listened somewhere else (kept to explain a missing listen). */
  other(port: string): void;
}

export function interceptListen(state: WorkerState, target: ListenTarget, hooks: InterceptHooks): void {
  const realListen = net.Server.prototype.listen;
  const release = (server: net.Server): void => {
    const i = state.servers.indexOf(server);
    if (i >= 0) state.servers.splice(i, 1);
    hooks.released(server);
  };

  function listen(this: net.Server, ...args: ListenArgs): net.Server {
    const port = listenPort(args);
    if (port !== target.port) {
      if (port !== undefined) hooks.other(String(port));
      return (realListen as (...a: ListenArgs) => net.Server).apply(this, args);
    }
    const cb = args.findLast((a) => typeof a === 'function') as (() => void) | undefined;
    if (cb) this.once('listening', cb);
    const self = this as unknown as Internals;
    self._handle = new AdoptedHandle(this, target, release);
    self._connectionKey = `${target.family === 'IPv6' ? 6 : 4}:${target.address}:${target.port}`;
    state.servers.push(this);
    hooks.adopted(this);
    // As a real listen does: 'listening' comes asynchronously, after listen() returns.
    process.nextTick(() => this.emit('listening'));
    return this;
  }
  net.Server.prototype.listen = listen as typeof net.Server.prototype.listen;
}
