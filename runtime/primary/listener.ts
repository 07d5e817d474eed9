/**
 * The primary's hold on the port, for the primary's whole life.
 *
 *   bind ---- own handle: listening, accepting (cannot be paused)
 *      \
 *       `-- echo through a worker --> copy: a descriptor received over IPC,
 *                                     which libuv lets us pause and resume
 *
 * In handoff mode the primary accepts every connection on its own handle.
 * In kernel mode the workers accept from their own descriptors of the same
 * socket, and the primary must sit out: node cannot pause accepting on a
 * handle it bound itself (readStart answers ENOTCONN), but it can on one it
 * received. So once a worker has echoed a descriptor back, the listener
 * adopts it, closes its own, and from then on accepts only while no worker
 * can (start-up, every worker gone or hung, stop).
 *
 * Whatever happens, one descriptor stays open here: the kernel keeps the
 * socket and its accept queue while any descriptor refers to it, so a
 * connection waiting there is never reset by a worker leaving.
 */
import dns from 'node:dns/promises';
import net from 'node:net';
import { ShoalError } from '../errors.js';
import { bindHandle, errnoError, fdHandle, handleAddress, type TcpHandle } from './tcp-handle.js';

/** The kernel's accept queue for the port (net's default backlog). */
export const BACKLOG = 511;

export class Listener {
  #handle: TcpHandle;
  #pausable = false;
  #accepting = true;
  #closed = false;
  readonly address: net.AddressInfo;
  /** Each accepted connection, as a raw handle. `status` < 0 is an accept error (EMFILE, …). */
  onConnection: (client: TcpHandle) => void = (c) => c.close();
  onError: (err: NodeJS.ErrnoException) => void = () => {};

  private constructor(handle: TcpHandle, address: net.AddressInfo) {
    this.#handle = handle;
    this.address = address;
  }

  /** Binds and listens; the usual failures become clear usage errors. */
  static async open(port: number, host: string | undefined): Promise<Listener> {
    const where = `${host ?? '*'}:${port}`;
    try {
      let address: string | null = null;
      let family: 4 | 6 | null = null;
      if (host) {
        const ip = net.isIP(host) ? host : (await dns.lookup(host)).address;
        address = ip;
        family = net.isIP(ip) === 6 ? 6 : 4;
      }
      const h = bindHandle(address, port, family);
      const l = new Listener(h, handleAddress(h)!);
      l.#listen(h);
      return l;
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (err.code === 'EADDRINUSE') throw new ShoalError('SHOAL_ERR_PORT_IN_USE', where);
      if (err.code === 'EACCES' || err.code === 'EPERM') throw new ShoalError('SHOAL_ERR_PORT_DENIED', where);
      throw new ShoalError('SHOAL_ERR_LISTEN', where, err.message);
    }
  }

  /** Serves a socket bound by someone else and passed as a descriptor (socket activation). */
  static fromFd(fd: number): Listener {
    try {
      const h = fdHandle(fd);
      const l = new Listener(h, handleAddress(h)!);
      l.#listen(h);
      return l;
    } catch (e) {
      throw new ShoalError('SHOAL_ERR_ACTIVATION', `fd ${fd}: ${(e as Error).message}`);
    }
  }

  /** The handle to give workers: any descriptor of the one socket will do. */
  get handle(): TcpHandle { return this.#handle; }
  /** Whether the primary accepts connections right now. */
  get accepting(): boolean { return this.#accepting && !this.#closed; }
  get pausable(): boolean { return this.#pausable; }

  /**
   * Takes over a descriptor of the same socket received from a worker: it
   * listens here from now on (paused or not, as before) and the primary's own
   * descriptor is closed. False when the copy cannot listen.
   */
  adopt(copy: TcpHandle): boolean {
    if (this.#closed) { copy.close(); return false; }
    try { this.#listen(copy); } catch { copy.close(); return false; }
    const own = this.#handle;
    this.#handle = copy;
    this.#pausable = true;
    // listen() started accepting on the copy; keep the state the primary had.
    const wanted = this.#accepting;
    this.#accepting = true;
    this.setAccepting(wanted);
    own.onconnection = null;
    own.close();
    return true;
  }

  /** Pauses or resumes accepting here (only once a pausable copy is adopted: before, always accepting). */
  setAccepting(on: boolean): void {
    if (!this.#pausable || this.#closed || on === this.#accepting) return;
    // On a listening handle, readStart/readStop switch libuv's accept watcher on and off. readStop
    // needs the reading flag set, so the first pause sets it with readStart (EALREADY if set).
    if (on) this.#handle.readStart();
    else { this.#handle.readStart(); this.#handle.readStop(); }
    this.#accepting = on;
  }

  /**
   * Closes the port once what waits in its accept queue now has been
   * accepted. The kernel resets every connection still queued when a
   * listening socket closes, so the close waits for the start of the next
   * turn of the event loop, whose poll accepts everything queued (until
   * EAGAIN), and comes right after it: only a connection arriving in those
   * microseconds can still be reset.
   */
  async closeAfterAccepting(): Promise<void> {
    if (this.accepting) await new Promise<void>((resolve) => { setImmediate(() => setImmediate(resolve)); });
    this.close();
  }

  /** Closes the primary's descriptor; with no other left, the port closes. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#handle.onconnection = null;
    this.#handle.close();
  }

  #listen(h: TcpHandle): void {
    h.onconnection = (status, client) => {
      if (status < 0 || !client) this.onError(errnoError(status, 'accept'));
      else this.onConnection(client);
    };
    const err = h.listen(BACKLOG);
    if (err !== 0) throw errnoError(err, 'listen');
  }
}
