/**
 * The raw libuv TCP handle node wraps in net.Server and net.Socket, as far
 * as shoal uses it. The primary works with raw handles on the connection
 * path (node's own cluster does the same): wrapping each accepted
 * connection in a net.Socket only to pass its handle on costs more CPU than
 * the handoff itself.
 *
 * `net._createServerHandle` (exported, undocumented) is what node:cluster
 * uses to bind a socket in the primary without accepting on it.
 */
import net from 'node:net';
import util from 'node:util';

export interface TcpHandle {
  listen(backlog: number): number;
  readStart(): number;
  readStop(): number;
  close(cb?: () => void): void;
  getsockname(out: Record<string, unknown>): number;
  getpeername(out: Record<string, unknown>): number;
  onconnection: ((status: number, client?: TcpHandle) => void) | null;
  ref(): void;
  unref(): void;
}

type CreateServerHandle = (address: string | null, port: number | null, addressType: number | null, fd?: number, flags?: number) => TcpHandle | number;

const createServerHandle = (net as unknown as { _createServerHandle?: CreateServerHandle })._createServerHandle;

/** Binds (never listens); throws an Error with the system error code on failure. */
export function bindHandle(address: string | null, port: number, addressType: 4 | 6 | null): TcpHandle {
  if (typeof createServerHandle !== 'function') throw Object.assign(new Error('net._createServerHandle is missing in this Node version'), { code: 'ENOSYS' });
  const h = createServerHandle(address, port, addressType);
  if (typeof h === 'number') throw errnoError(h, 'bind');
  return h;
}

/**
 * A handle on a listening socket this process was given as a descriptor
 * (socket activation); throws when it is not a TCP socket.
 */
export function fdHandle(fd: number): TcpHandle {
  if (typeof createServerHandle !== 'function') throw Object.assign(new Error('net._createServerHandle is missing in this Node version'), { code: 'ENOSYS' });
  const h = createServerHandle(null, null, null, fd);
  if (typeof h === 'number') throw errnoError(h, 'open');
  // A unix socket comes back as a pipe handle, which has no getsockname.
  if (typeof h.getsockname !== 'function' || handleAddress(h) === undefined) {
    h.close();
    throw Object.assign(new Error(`descriptor ${fd} is not a TCP socket`), { code: 'ENOTSOCK' });
  }
  return h;
}

/** An Error for a libuv status (negative errno), with `code` set as node sets it. */
export function errnoError(status: number, syscall: string): NodeJS.ErrnoException {
  const code = util.getSystemErrorName(status);
  return Object.assign(new Error(`${syscall} ${code}`), { code, errno: status, syscall });
}

/** getsockname / getpeername of a raw handle, as net reports them. */
export function handleAddress(h: TcpHandle, which: 'sock' | 'peer' = 'sock'): net.AddressInfo | undefined {
  const out: Record<string, unknown> = {};
  const err = which === 'sock' ? h.getsockname(out) : h.getpeername(out);
  return err === 0 ? (out as unknown as net.AddressInfo) : undefined;
}
