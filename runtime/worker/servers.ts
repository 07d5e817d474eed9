/**
 * Listen interception: the one patch of another module's object the design
 * allows (DESIGN.md point 2). A listen on the port shoal serves does not
 * bind; the server is registered to receive the connections shoal gives it
 * (handoff or kernel accept), and is made to look and behave like a
 * listening server:
 *
 * - `_handle` is a stand-in with getsockname/close/ref/unref, so `address()`
 *   reports the real port, `listening` is true and `close(cb)` works;
 * - `listening` is emitted, which is what makes http.Server start enforcing
 *   headersTimeout/requestTimeout and track connections for
 *   closeIdleConnections() (both hang off its 'listening' listener).
 *
 * Which port is served:
 *
 *   SHOAL_PORT=N     the user gave one (--port, PORT, config): a listen on N
 *   SHOAL_PORT=auto  none given: the app's first TCP listen, as `node app.js`
 *                    would (3000 when it asks for none); the primary binds it
 *                    when the first worker asks, and answers with the address
 *
 * A listen on another fixed port (the app's own admin or metrics server) is
 * shared among the workers as node:cluster shares it: the primary binds it
 * once and every worker listens on a descriptor of that one socket. Port 0,
 * pipes, handles and fds go to the real listen untouched.
 */
import net from 'node:net';
import type { WorkerState } from './state.js';

export interface ListenTarget {
  /** The port shoal serves, or 'auto' until the primary says which the app's first listen got. */
  port: number | 'auto';
  /** Address and family the primary really bound, reported by address(). */
  address: string;
  family: 'IPv4' | 'IPv6';
}

type ListenArgs = unknown[];

/** What a listen() call asks for: a TCP port (0 when none), with its host; or something else (pipe, handle, fd). */
export type ListenAsk = { readonly tcp: true; readonly port: number; readonly host: string | undefined } | { readonly tcp: false };

export function listenAsk(args: ListenArgs): ListenAsk {
  const first = args[0];
  if (typeof first === 'object' && first !== null) {
    const o = first as { port?: unknown; host?: unknown; path?: unknown; handle?: unknown; _handle?: unknown; fd?: unknown };
    if (o.path !== undefined || o.handle !== undefined || o._handle !== undefined || o.fd !== undefined) return { tcp: false };
    const port = toPort(o.port);
    return port === undefined ? { tcp: false } : { tcp: true, port, host: typeof o.host === 'string' ? o.host : undefined };
  }
  if (typeof first === 'string' && !/^\d*$/.test(first)) return { tcp: false }; // a pipe path
  const port = toPort(first);
  if (port === undefined) return { tcp: false };
  return { tcp: true, port, host: typeof args[1] === 'string' ? args[1] : undefined };
}

/** A port as listen() takes it (number, numeric string, or nothing = 0); undefined when it is none of those. */
function toPort(v: unknown): number | undefined {
  if (v === undefined || v === null || typeof v === 'function') return 0;
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return v;
  if (typeof v === 'string' && /^\d+$/.test(v)) return Number(v);
  if (typeof v === 'string' && v === '') return 0;
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
  /** A server listened on the served port. */
  adopted(server: net.Server): void;
  /** A registered server was closed by the app. */
  released(server: net.Server): void;
  /** The app listened on another fixed port (reported to explain a missing listen). */
  other(port: string): void;
  /** auto: ask the primary to serve the app's first port (null: it asked for none); resolves with the address bound. */
  bind(port: number | null): Promise<{ port: number; address: string; family: 'IPv4' | 'IPv6' }>;
  /** A descriptor of the shared socket for another fixed port, bound once by the primary. */
  share(port: number, host: string | undefined): Promise<unknown>;
}

export function interceptListen(state: WorkerState, target: ListenTarget, hooks: InterceptHooks): void {
  const realListen = net.Server.prototype.listen as (this: net.Server, ...a: ListenArgs) => net.Server;
  /** auto: the port the app's first listen asked for, once asked (the served one, whatever the primary bound). */
  let firstAsk: number | undefined;
  let bound: Promise<void> | undefined;
  const release = (server: net.Server): void => {
    const i = state.servers.indexOf(server);
    if (i >= 0) state.servers.splice(i, 1);
    hooks.released(server);
  };
  const adopt = (server: net.Server, cb: (() => void) | undefined): void => {
    if (cb) server.once('listening', cb);
    const self = server as unknown as Internals;
    self._handle = new AdoptedHandle(server, target, release);
    self._connectionKey = `${target.family === 'IPv6' ? 6 : 4}:${target.address}:${String(target.port)}`;
    state.servers.push(server);
    hooks.adopted(server);
    // As a real listen does: 'listening' comes asynchronously, after listen() returns.
    process.nextTick(() => server.emit('listening'));
  };
  const share = (server: net.Server, port: number, host: string | undefined, cb: (() => void) | undefined): void => {
    hooks.other(String(port));
    hooks.share(port, host).then(
      (handle) => { realListen.call(server, { handle }, ...(cb ? [cb] : [])); },
      (err: Error) => { server.emit('error', err); },
    );
  };

  function listen(this: net.Server, ...args: ListenArgs): net.Server {
    const ask = listenAsk(args);
    if (!ask.tcp) return realListen.apply(this, args);
    const cb = args.findLast((a) => typeof a === 'function') as (() => void) | undefined;
    // auto: the app's first TCP listen decides the served port; a listen on that port again is served too.
    if (target.port === 'auto' && firstAsk === undefined) {
      firstAsk = ask.port;
      bound = hooks.bind(ask.port === 0 ? null : ask.port).then((a) => { target.port = a.port; target.address = a.address; target.family = a.family; });
    }
    if (bound && ask.port === firstAsk) {
      bound.then(() => adopt(this, cb), (err: Error) => { this.emit('error', err); });
      return this;
    }
    if (ask.port === target.port) { adopt(this, cb); return this; }
    if (ask.port === 0) return realListen.apply(this, args);
    share(this, ask.port, ask.host, cb);
    return this;
  }
  net.Server.prototype.listen = listen as typeof net.Server.prototype.listen;
}
