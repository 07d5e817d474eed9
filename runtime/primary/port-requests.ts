/**
 * Workers' requests for ports (runtime/worker/servers.ts), answered from
 * the ports the primary holds (ports.ts): `bind` for the served port when no
 * port was given (the app's first listen decides), `share` for another
 * fixed port of the app. Requests are checked: a worker is the app's code.
 */
import { ShoalError } from '../errors.js';
import type { Handlers, ToPrimary } from '../ipc/messages.js';
import type { WorkerProcess } from './worker-process.js';

export interface PortControl {
  /** The served port (null: the app asked for none); resolves with its address, rejects with why it cannot be served. */
  serve(port: number | null): Promise<{ port: number; address: string; family: 'IPv4' | 'IPv6' }>;
  share(port: number, host: string | null): Promise<unknown>;
}

const isPort = (p: unknown): p is number => typeof p === 'number' && Number.isInteger(p) && p > 0 && p < 65536;
const failure = (e: Error & { code?: string }): { message: string; code: string } => ({ message: e.message, code: String(e.code ?? 'EINVAL') });

/** The `bind` and `share` entries of the supervisor's message table. `fatal`: the served port cannot be had. */
export function portRequests(ports: PortControl, fatal: (e: ShoalError) => void): Pick<Handlers<ToPrimary, [WorkerProcess, unknown]>, 'bind' | 'share'> {
  return {
    bind: (m, w) => {
      ports.serve(isPort(m.port) ? m.port : null).then(
        (a) => w.send({ shoal: 'bound', ...a }),
        (e: Error & { code?: string }) => {
          w.send({ shoal: 'bind-failed', ...failure(e) });
          // Nothing will ever listen: report it once, as the start failure it is.
          if (e instanceof ShoalError) fatal(e);
        },
      );
    },
    share: (m, w) => {
      const fail = (e: Error & { code?: string }): void => { w.send({ shoal: 'shared', req: m.req, error: failure(e) }); };
      if (!isPort(m.port) || (m.host !== null && typeof m.host !== 'string')) { fail(Object.assign(new Error(`invalid port ${String(m.port)}`), { code: 'EINVAL' })); return; }
      ports.share(m.port, m.host).then((h) => w.send({ shoal: 'shared', req: m.req }, h), fail);
    },
  };
}
