/**
 * The start-up self-test of kernel accept, run once the port is bound:
 *
 *   primary --echo{probe} + throwaway socket -->  a worker  --> back
 *           --echo{listen} + the served port --> (any one)  --> back
 *
 * The probe copy is checked for pausing (accept-probe.ts); the listen copy
 * is the descriptor the primary can pause from then on (listener.ts). The
 * first worker alive does the echo; if it dies before both handles are
 * back, the next one does.
 */
import type { EchoTag } from '../ipc/messages.js';
import { probePause, probeSocket } from './accept-probe.js';
import type { Listener } from './listener.js';
import type { TcpHandle } from './tcp-handle.js';
import type { WorkerProcess } from './worker-process.js';

export type SelfTestResult = { readonly ok: true; readonly copy: TcpHandle } | { readonly ok: false; readonly why: string };

export class SelfTest {
  readonly #probe: (copy: TcpHandle) => Promise<string | undefined>;
  readonly #done: (r: SelfTestResult) => void;
  #listener: Listener | undefined;
  #socket: TcpHandle | undefined;
  #prober: WorkerProcess | undefined;
  #over = false;
  readonly #alive = new Set<WorkerProcess>();
  readonly #copies = new Map<EchoTag, TcpHandle>();

  constructor(done: (r: SelfTestResult) => void, probe: (copy: TcpHandle) => Promise<string | undefined> = probePause) {
    this.#done = done;
    this.#probe = probe;
  }

  /** The served port is bound (at start, or when the app first listened). */
  serve(listener: Listener): void {
    this.#listener = listener;
    this.#next();
  }

  spawned(w: WorkerProcess): void {
    this.#alive.add(w);
    this.#next();
  }

  exited(w: WorkerProcess): void {
    this.#alive.delete(w);
    if (w !== this.#prober) return;
    this.#prober = undefined;
    this.#dropCopies();
    this.#next();
  }

  echoed(w: WorkerProcess, tag: EchoTag, handle: unknown): void {
    const h = handle as TcpHandle | undefined;
    if (this.#over || w !== this.#prober || !h || this.#copies.has(tag)) { h?.close(); return; }
    this.#copies.set(tag, h);
    const probe = this.#copies.get('probe');
    const listen = this.#copies.get('listen');
    if (!probe || !listen) return;
    this.#copies.clear();
    this.#socket?.close();
    this.#socket = undefined;
    void this.#probe(probe).then((why) => {
      if (this.#over) { listen.close(); return; }
      this.#over = true;
      if (why === undefined) this.#done({ ok: true, copy: listen });
      else { listen.close(); this.#done({ ok: false, why }); }
    });
  }

  #next(): void {
    if (this.#over || this.#prober || !this.#listener) return;
    const w = this.#alive.values().next().value;
    if (!w) return;
    try {
      this.#socket ??= probeSocket();
    } catch (e) {
      this.#over = true;
      this.#done({ ok: false, why: `no probe socket on 127.0.0.1 (${(e as Error).message})` });
      return;
    }
    this.#prober = w;
    w.send({ shoal: 'echo', tag: 'probe' }, this.#socket);
    w.send({ shoal: 'echo', tag: 'listen' }, this.#listener.handle);
  }

  #dropCopies(): void {
    for (const h of this.#copies.values()) h.close();
    this.#copies.clear();
  }
}
