/**
 * The worker shim, loaded into every worker with `--import` before the app.
 * It intercepts listen on the shoal port, takes the sockets the primary hands
 * over, reports load in batches, and retires the worker on request.
 *
 *   primary --{conn,id}+handle--> shim --ack--> primary closes its copy
 *                                  `--> server.emit('connection', socket)
 *
 * Kept free of dependencies (no pino here): it is start-up cost in every worker.
 */
import { interceptListen } from './servers.js';
import { drain } from './drain.js';
import { Intake } from './intake.js';
import { workerState } from './state.js';
import { dispatch, ENV, type Handlers, type ToWorker } from '../ipc/messages.js';

/** The periodic report runs every IDLE_REPORT_FACTOR intervals; a quiet worker sends every other one (ELU stays fresh). */
const IDLE_REPORT_FACTOR = 4;

function main(): void {
  const port = Number(process.env[ENV.port]);
  if (!process.send || !Number.isInteger(port)) return; // not launched by a shoal primary
  const state = workerState();
  const reportMs = Number(process.env[ENV.reportMs] ?? 25);
  const intake = new Intake(state, reportMs);
  const waitReady = process.env[ENV.waitReady] === '1';
  const family = process.env[ENV.host]?.includes(':') ? 'IPv6' : 'IPv4';
  let announced = false;

  interceptListen(state, { port, address: process.env[ENV.host] ?? '::', family }, {
    adopted(server) {
      intake.track(server);
      if (!announced) state.send(waitReady && state.readyCalled ? { shoal: 'ready' } : { shoal: 'listening' });
      announced = true;
    },
    released() {
      if (state.servers.length === 0) state.send({ shoal: 'unlisten' });
    },
    other(p) { state.send({ shoal: 'other-listen', port: p }); },
  });

  // Report a start-up crash to the primary with its message; the process
  // still dies as node would make it die (we only observe).
  process.on('uncaughtExceptionMonitor', (err) => {
    const e = err instanceof Error ? err : new Error(String(err));
    state.send({ shoal: 'fatal', message: e.message, ...(e.stack ? { stack: e.stack } : {}) });
  });

  const retire = async (timeoutMs: number): Promise<void> => {
    if (state.draining) return;
    await drain(state, intake, timeoutMs);
    process.exit(0);
  };

  const table: Handlers<ToWorker, [unknown]> = {
    conn: (m, handle) => intake.accept(m.id, handle),
    stop: (m) => { void retire(m.timeoutMs); },
  };
  process.on('message', (msg, handle) => { dispatch(table, msg, handle); });

  // The periodic report keeps event-loop utilisation fresh on a quiet worker; changes report themselves.
  setInterval(() => intake.report(2), reportMs * IDLE_REPORT_FACTOR).unref();

  // The primary is gone (even kill -9): exit rather than linger as an orphan.
  process.on('disconnect', () => { process.exit(0); });
}

main();
