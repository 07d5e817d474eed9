/**
 * The ports the primary holds for the app.
 *
 * - The served port: bound at start when the user gave one (--port, PORT,
 *   config); otherwise when the first worker's app listens, on the port it
 *   asks for (DEFAULT_PORT when it asks for none), as `node app.js` would.
 *   Either way once, for the primary's life (listener.ts). With socket
 *   activation, the passed socket instead, whatever port is asked for.
 * - Other fixed ports the app listens on (its own admin or metrics server):
 *   bound once here, never listened on here, and shared by every worker as
 *   node:cluster shares them (each listens on a descriptor of the one
 *   socket; the kernel spreads their connections).
 */
import dns from 'node:dns/promises';
import net from 'node:net';
import { Listener } from './listener.js';
import { bindHandle, type TcpHandle } from './tcp-handle.js';

/** The port served when neither the user nor the app names one. */
export const DEFAULT_PORT = 3000;

export class Ports {
  readonly #host: string | undefined;
  readonly #onServed: (l: Listener) => void;
  readonly #activatedFd: number | undefined;
  #served: Promise<Listener> | undefined;
  #listener: Listener | undefined;
  readonly #shared = new Map<string, TcpHandle>();

  constructor(host: string | undefined, onServed: (l: Listener) => void, activatedFd?: number) {
    this.#host = host;
    this.#onServed = onServed;
    this.#activatedFd = activatedFd;
  }

  /** The served port's listener, once bound. */
  get listener(): Listener | undefined { return this.#listener; }

  /**
   * Binds the served port, once: every later call (another worker asking,
   * whatever port it names) gets the same listener. Rejects with a
   * ShoalError (port in use, denied) that the caller reports.
   */
  serve(port: number | null): Promise<Listener> {
    const fd = this.#activatedFd;
    this.#served ??= (fd === undefined ? Listener.open(port ?? DEFAULT_PORT, this.#host) : Promise.resolve().then(() => Listener.fromFd(fd))).then((l) => {
      this.#listener = l;
      this.#onServed(l);
      return l;
    });
    return this.#served;
  }

  /**
   * A bound (not listening) socket for another fixed port, made once per
   * host and port. Rejects with the error a listen of the app's own would
   * get (EADDRINUSE and the like, with its code).
   */
  async share(port: number, host: string | null): Promise<TcpHandle> {
    const key = `${host ?? ''}:${port}`;
    let h = this.#shared.get(key);
    if (!h) {
      // As node does, a host name is bound at its first address.
      const ip = host === null || net.isIP(host) ? host : (await dns.lookup(host)).address;
      h = this.#shared.get(key) ?? bindHandle(ip, port, ip === null ? null : net.isIP(ip) === 6 ? 6 : 4);
      this.#shared.set(key, h);
    }
    return h;
  }

  /** Closes every port (the served one included): the primary is stopping. */
  close(): void {
    this.#listener?.close();
    for (const h of this.#shared.values()) h.close();
    this.#shared.clear();
  }
}
