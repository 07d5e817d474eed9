/**
 * The worker shim, loaded into every worker with `--import` before the app.
 * It intercepts listen on the shoal port, takes the sockets the primary hands
 * over, reports load in batches, and retires the worker on request.
 *
 *   primary --{conn,id}+handle--> node's receipt (NODE_HANDLE_ACK) --> primary closes its copy
 *                                  `--> shim --> server.emit('connection', socket)
 *
 * Kept free of dependencies (no pino here): it is start-up cost in every worker.
 */
import { interceptListen } from './servers.js';
import { Acceptor } from './acceptor.js';
import { AppMetrics } from './app-metrics.js';
import { drain } from './drain.js';
import { Intake } from './intake.js';
import { connectionBudget, openFileLimit } from './fd-limit.js';
import { workerState } from './state.js';
import { dispatch, ENV, type Handlers, type ToWorker } from '../ipc/messages.js';
import { Replica } from '../session/replica.js';

/** Signals a terminal sends its whole foreground group, which the primary handles for the cluster. */
const GROUP_SIGNALS = ['SIGINT', 'SIGHUP'] as const;
/** A listener, so that node does not die of the signal; what to do is the primary's call. */
function ignoreGroupSignal(): void {}

/** The periodic report runs every IDLE_REPORT_FACTOR intervals; a quiet worker sends every other one (ELU stays fresh). */
const IDLE_REPORT_FACTOR = 4;

function main(): void {
  const served = process.env[ENV.port];
  const port = served === 'auto' ? 'auto' : Number(served);
  if (!process.send || (port !== 'auto' && !Number.isInteger(port))) return; // not launched by a shoal primary
  const state = workerState();
  const reportMs = Number(process.env[ENV.reportMs] ?? 25);
  const windowMs = Number(process.env[ENV.reportWindowMs]);
  const intake = new Intake(state, reportMs, process.env[ENV.edges] === '1', windowMs > reportMs ? windowMs : reportMs);
  intake.budget = connectionBudget(openFileLimit());
  const acceptor = new Acceptor(intake, state);
  const scrapeMs = Number(process.env[ENV.scrapeMs]);
  const appMetrics = new AppMetrics(state, process.argv[1], scrapeMs > 0 ? scrapeMs : undefined);
  const waitReady = process.env[ENV.waitReady] === '1';
  const family = process.env[ENV.host]?.includes(':') ? 'IPv6' : 'IPv4';
  let announced = false;
  let binding: { resolve: (a: { port: number; address: string; family: 'IPv4' | 'IPv6' }) => void; reject: (e: Error) => void } | undefined;
  const sharing = new Map<number, { resolve: (h: unknown) => void; reject: (e: Error) => void }>();
  let shareSeq = 0;
  const listenError = (e: { message: string; code: string }): Error => Object.assign(new Error(e.message), { code: e.code });
  // The replica exists before the app runs: the primary starts streaming the host's sessions at fork.
  const replica = new Replica({ send: (m) => state.send(m), nearCache: process.env[ENV.sessionsMode] === 'distributed', shared: process.env[ENV.sessionsShared] === '1', ...sessionLimits() });
  state.sessions = replica;
  const session = (m: Extract<ToWorker, { shoal: `sess-${string}` }>): void => {
    const reply = replica.receive(m);
    if (reply) state.send(reply);
  };

  interceptListen(state, { port, address: process.env[ENV.host] ?? '::', family }, {
    adopted(server) {
      intake.track(server);
      if (!announced) state.send(waitReady && state.readyCalled ? { shoal: 'ready' } : { shoal: 'listening' });
      announced = true;
    },
    released() {
      if (state.servers.length > 0) return;
      acceptor.stop();
      state.send({ shoal: 'unlisten' });
    },
    other(p) { state.send({ shoal: 'other-listen', port: p }); },
    bind(p) {
      state.send({ shoal: 'bind', port: p });
      return new Promise((resolve, reject) => { binding = { resolve, reject }; });
    },
    share(p, host) {
      const req = ++shareSeq;
      state.send({ shoal: 'share', req, port: p, host: host ?? null });
      return new Promise((resolve, reject) => { sharing.set(req, { resolve, reject }); });
    },
  });

  // A worker shares the primary's process group (worker-process.ts), so Ctrl-C on a terminal
  // (SIGINT) and a hang-up (SIGHUP) reach it too. Each is the primary's to act on: it stops or
  // reloads the workers in order (after --shutdown-delay), and a worker that died of the signal
  // would fail its in-flight requests. A listener of the app's own still runs.
  for (const sig of GROUP_SIGNALS) process.on(sig, ignoreGroupSignal);

  // Report a start-up crash to the primary with its message; the process
  // still dies as node would make it die (we only observe).
  process.on('uncaughtExceptionMonitor', (err) => {
    const e = err instanceof Error ? err : new Error(String(err));
    state.send({ shoal: 'fatal', message: e.message, ...(e.stack ? { stack: e.stack } : {}) });
  });

  const retire = async (timeoutMs: number): Promise<void> => {
    if (state.draining) return;
    await drain(state, intake, acceptor, timeoutMs);
    await appMetrics.final();
    process.exit(0);
  };

  const table: Handlers<ToWorker, [unknown]> = {
    conn: (m, handle) => intake.accept(m.id, handle),
    receipts: () => { intake.acks = false; },
    // A descriptor that would not listen is answered as given back, so the primary stops counting on it.
    accept: (m, handle) => { if (!acceptor.start(handle, m.params, m.floor)) state.send({ shoal: 'unaccepted' }); },
    unaccept: () => { acceptor.stop(); state.send({ shoal: 'unaccepted' }); },
    floor: (m) => acceptor.setFloor(m.floor),
    // The primary wants a descriptor it can pause: one received over IPC is. Ours closes once sent.
    echo: (m, handle) => {
      const h = handle as { close(): void } | undefined;
      if (h && process.send) process.send({ shoal: 'echo', tag: m.tag }, h as never, () => h.close());
    },
    stop: (m) => { void retire(m.timeoutMs); },
    bound: (m) => { binding?.resolve({ port: m.port, address: m.address, family: m.family }); },
    'bind-failed': (m) => { binding?.reject(listenError(m)); },
    shared: (m, handle) => {
      const w = sharing.get(m.req);
      sharing.delete(m.req);
      if (m.error || !handle) w?.reject(listenError(m.error ?? { message: 'no descriptor came with the answer', code: 'EINVAL' }));
      else w?.resolve(handle);
    },
    metrics: (m) => appMetrics.answer(m.req),
    'sess-sync': session,
    'sess-delta': session,
    'sess-ack': session,
    'sess-probe': session,
    'sess-fetched': session,
    'sess-drop': session,
  };
  process.on('message', (msg, handle) => { dispatch(table, msg, handle); });

  // The periodic report keeps event-loop utilisation fresh on a quiet worker; changes report themselves.
  setInterval(() => intake.tick(2), reportMs * IDLE_REPORT_FACTOR).unref();

  // The primary is gone (even kill -9): exit rather than linger as an orphan.
  process.on('disconnect', () => { process.exit(0); });
}

/** The host-wide bounds the primary passes down (see --max-sessions). */
function sessionLimits(): { maxSessions?: number; maxBytes?: number } {
  const n = Number(process.env[ENV.maxSessions]);
  const b = Number(process.env[ENV.maxSessionMemory]);
  return { ...(n > 0 ? { maxSessions: n } : {}), ...(b > 0 ? { maxBytes: b } : {}) };
}

main();
