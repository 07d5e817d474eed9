/**
 * The primary: owns the port, supervises the workers, stops gracefully.
 *
 *              clients
 *                 | TCP :port
 *                 v
 *   +----------------------------+
 *   | primary                    |
 *   |  listener (bound for life) |  nothing is read here: TLS, HTTP/2 and
 *   |  kernel accept: floors     |  upgrades all end in the worker
 *   |  handoff: dispatcher       |
 *   |  supervisor                |
 *   |  session hub (host's copy) |
 *   +----+-----------+-----------+
 *        | IPC       | IPC         listen handle and floors (kernel), or each
 *        |           |             socket (handoff); load reports, session changes
 *        v           v
 *    worker 1 ... worker N        the app, unmodified; in kernel mode each
 *                                 accepts from the shared socket itself
 */
import type net from 'node:net';
import os from 'node:os';
import type { Logger } from 'pino';
import { ShoalError } from '../errors.js';
import { ENV } from '../ipc/messages.js';
import type { ShoalOptions } from '../options.js';
import { createScheduler } from '../scheduler/index.js';
import { ensureRuntimeDir, runtimeDir, socketPath } from '../control/paths.js';
import { startControlServer, type ControlHandler, type ControlServer } from '../control/server.js';
import { outputsFor, type Outputs } from '../logs/outputs.js';
import { serveLogs } from '../logs/serve.js';
import { SessionHub } from '../session/hub.js';
import { RedisLink } from '../session/redis/link.js';
import { redactUrl } from '../session/redis/link-options.js';
import { Dispatcher } from './dispatcher.js';
import { startHealthChecks } from './health.js';
import { KernelAccept, type AcceptMode } from './kernel-accept.js';
import { Ports } from './ports.js';
import { Operations } from './operations.js';
import { ShutdownDelay } from './shutdown-delay.js';
import { closeExtra, takeActivation } from './socket-activation.js';
import { Supervisor, type SupervisorEvents } from './supervisor.js';
import type { ForkSpec } from './worker-process.js';
import type { Admin } from '../admin/admin.js';
import { agentAnswer } from '../agent/weight.js';
import { startAgentServer, type AgentServer } from '../agent/server.js';

const TS_ENTRY = /\.(c|m)?tsx?$/;

/** Accept errors come in floods (EMFILE): logged at most once per this long, with the count. */
const ACCEPT_ERROR_LOG_MS = 5_000;

/** Logs an error that may repeat thousands of times a second: the first at once, then a count per period. */
class EveryError {
  readonly #log: Logger;
  readonly #msg: string;
  readonly #everyMs: number;
  #last = -Infinity;
  #since = 0;
  constructor(log: Logger, msg: string, everyMs: number) { this.#log = log; this.#msg = msg; this.#everyMs = everyMs; }
  note(err: NodeJS.ErrnoException): void {
    this.#since++;
    const now = Date.now();
    if (now - this.#last < this.#everyMs) return;
    this.#log.warn({ err: err.message, code: err.code, times: this.#since }, this.#msg);
    this.#last = now;
    this.#since = 0;
  }
}

/**
 * How long a worker batches its load reports outside kernel accept (which
 * has its own, KERNEL_REPORT_MS). Only least-load's handoff acts on a
 * report at once (it may hold a connection for the first idle worker): it
 * keeps the report interval. For the others the reports feed status,
 * metrics and the dashboard, and least-conn's handoff also reads the
 * workers' closes from them, while counting each handoff itself the moment
 * it makes it. Batching 25 ms rather than 10 ms for least-conn, measured
 * in the full bench's setting (side-by-side.mjs --unpinned, 8 interleaved
 * rounds of the bench's closed loop): its handoff's new-connection rate went
 * from 0.94x to 1.00x node:cluster RR (per-round medians 0.97x and 1.00x),
 * and in another 8 paired rounds 25 ms was the faster in 7; its
 * fast-request p90 under the heterogeneous open loop stayed where it was
 * (run.mjs --scenarios c-open, 5 runs: 12.8 and 12.7 ms; an earlier 3-run
 * measurement, 11.7 against 14.2 ms, which kept 10 ms, is not repeated).
 */
export const FIGURES_REPORT_MS = 25;

function reportWindowMs(opts: ShoalOptions): number {
  return opts.balancer === 'least-load' ? opts.reportIntervalMs : Math.max(opts.reportIntervalMs, FIGURES_REPORT_MS);
}

/**
 * How workers are started. With a port given, they get it as PORT (and the
 * shim as SHOAL_PORT); without one, PORT stays unset, as under `node app.js`,
 * and SHOAL_PORT=auto: the port is the one the app's first listen asks for.
 */
export function forkSpec(opts: ShoalOptions, address: net.AddressInfo | undefined, output: Outputs): ForkSpec {
  const execArgv = ['--import', new URL('../worker/shim.js', import.meta.url).href];
  if (TS_ENTRY.test(opts.entry)) execArgv.push('--import', import.meta.resolve('tsx'));
  return {
    entry: opts.entry,
    appArgs: opts.appArgs,
    execArgv,
    output,
    env: {
      ...process.env,
      ...(address ? { PORT: String(address.port) } : {}),
      [ENV.port]: address ? String(address.port) : 'auto',
      [ENV.host]: address?.address ?? opts.host ?? '::',
      [ENV.name]: opts.name,
      [ENV.reportMs]: String(opts.reportIntervalMs),
      [ENV.reportWindowMs]: String(reportWindowMs(opts)),
      [ENV.maxSessions]: String(opts.maxSessions),
      [ENV.maxSessionMemory]: String(opts.maxSessionMemoryBytes),
      [ENV.sessionsMode]: opts.redisUrl === undefined ? 'replicated' : opts.sessionsMode,
      ...(opts.redisUrl === undefined ? {} : { [ENV.sessionsShared]: '1' }),
      ...(opts.balancer === 'least-load' ? { [ENV.edges]: '1' } : {}),
      ...(opts.waitReady ? { [ENV.waitReady]: '1' } : {}),
      ...(opts.admin ? { [ENV.scrapeMs]: String(opts.scrapeTimeoutMs) } : {}),
    },
  };
}

export interface RunningPrimary {
  readonly supervisor: Supervisor;
  readonly dispatcher: Dispatcher;
  /** The accept mode in force (kernel only once its start-up self-test passed). */
  readonly accept: () => AcceptMode;
  readonly operations: Operations;
  /** The served port's address, once bound (at once when a port was given, else when the app first listens). */
  readonly address: () => net.AddressInfo | undefined;
  /** Resolves with the exit code the process should end with. */
  readonly done: Promise<number>;
  /** Graceful stop (after the shutdown delay): no new connections, workers finish in-flight requests, then exit. */
  stop(reason: string): Promise<number>;
  /** Ends the shutdown delay now, if one runs (a second signal); false if none does. */
  skipDelay(reason: string): boolean;
}

export async function runPrimary(opts: ShoalOptions, log: Logger): Promise<RunningPrimary> {
  // First, before this process opens sockets of its own (closeExtra closes sockets only).
  const activation = takeActivation();
  if (activation && activation.count > 1) {
    const closed = closeExtra(activation);
    log.warn({ fds: activation.count, served: activation.fd, fdName: activation.name ?? null, closed }, 'socket activation: several sockets were passed; shoal serves one port, the first (fd 3), and closes the others: give each port its own unit and cluster');
  }
  const dir = runtimeDir();
  ensureRuntimeDir(dir);
  let control: ControlServer | undefined;
  let ops: Operations | undefined;
  const outputs = outputsFor(opts, log);
  const handle: ControlHandler = async (req, progress, channel) => {
    if (req.cmd === 'logs') return serveLogs(outputs.store, req, channel, opts.name, opts.logFollowMaxBytes);
    if (!ops) throw new ShoalError('SHOAL_ERR_BUSY', 'start-up');
    const o = ops;
    switch (req.cmd) {
      case 'status': return o.status(req.cluster === true);
      case 'scale': return o.scale(req.to);
      case 'reload': return o.reload(req.parallel ?? 1, (e) => { log.info(e, `reload: ${e.event}`); progress(e); });
      case 'stop': return { code: await stop('shoal stop') };
    }
  };
  control = await startControlServer(socketPath(dir, opts.name), opts.name, handle, log);
  const scheduler = createScheduler(opts.balancer, { slowStartMs: opts.slowStartMs });
  const dispatcher = new Dispatcher(scheduler, opts, log);
  const kernel = opts.accept === 'kernel' && (opts.balancer === 'least-conn' || opts.balancer === 'least-load')
    ? new KernelAccept({ balancer: opts.balancer, slack: opts.acceptSlack, holdMs: opts.acceptHoldMs, slowStartMs: opts.slowStartMs, unacceptTimeoutMs: opts.stopTimeoutMs, floorEveryMs: opts.reportIntervalMs }, dispatcher, log)
    : undefined;
  const acceptErrors = new EveryError(log, 'accept failed (the primary is out of descriptors?)', ACCEPT_ERROR_LOG_MS);
  const ports = new Ports(opts.host, (l) => {
    l.onConnection = (h) => dispatcher.accept(h);
    l.onError = (err) => acceptErrors.note(err);
    kernel?.serve(l);
    if (activation) log.info({ port: l.address.port, host: l.address.address, fd: activation.fd, fds: activation.count, fdName: activation.name ?? null, asked: opts.port ?? 'the app' }, 'socket activation: serving the socket passed by the service manager');
    else if (opts.port === undefined) log.info({ port: l.address.port, host: l.address.address }, 'serving the port the app listens on');
  }, activation?.fd);
  if (opts.port !== undefined) {
    try { await ports.serve(opts.port); } catch (e) { control.close(); throw e; }
  }
  // Bound before any worker forks: a bad admin address fails the start with a usage error.
  let admin: Admin | undefined;
  if (opts.admin) {
    const { openAdmin } = await import('../admin/admin.js');
    try { admin = await openAdmin({ ...opts, admin: opts.admin }, log); } catch (e) { ports.close(); control.close(); throw e; }
  }
  let agent: AgentServer | undefined;
  if (opts.agent) {
    // Until the model exists no worker is ready: the answer is drain, as it will be then.
    try { agent = await startAgentServer({ ...opts.agent, timeoutMs: opts.agentTimeoutMs }, () => (ops ? agentAnswer(ops.model.snapshot()) : 'drain\n'), log); } catch (e) {
      await admin?.close(); ports.close(); control.close(); throw e;
    }
    log.info({ agent: agent.address }, 'HAProxy agent listening');
  }
  const address = (): net.AddressInfo | undefined => ports.listener?.address;
  const portControl = {
    serve: async (port: number | null) => {
      const a = (await ports.serve(port)).address;
      return { port: a.port, address: a.address, family: a.family === 'IPv6' ? 'IPv6' as const : 'IPv4' as const };
    },
    share: (port: number, host: string | null) => ports.share(port, host),
  };
  const distributed = opts.redisUrl !== undefined && opts.sessionsMode === 'distributed';
  const hub = new SessionHub(log, { maxSessions: opts.maxSessions, maxBytes: opts.maxSessionMemoryBytes, nearCache: distributed });
  const link = opts.redisUrl === undefined ? undefined : new RedisLink(
    {
      url: opts.redisUrl, prefix: opts.redisPrefix, mode: opts.sessionsMode, cluster: opts.redisCluster,
      queueMax: opts.redisQueueMax, queueMaxBytes: opts.redisQueueMemoryBytes,
      ...(opts.redisOptions ? { redisOptions: opts.redisOptions } : {}),
    },
    { applyRemote: (c) => hub.applyRemote(c), entries: () => hub.store.entries(), describe: () => describeHost(), invalidate: () => hub.invalidate() },
    log,
  );
  if (link) {
    hub.publish = (c) => link.publish(c);
    hub.load = (id) => link.load(id);
    hub.pending = (id) => link.pending(id);
    log.info({ redis: redactUrl(opts.redisUrl!), prefix: opts.redisPrefix, mode: opts.sessionsMode }, 'sessions shared through redis');
  }
  let finish: (code: number) => void = () => {};
  const done = new Promise<number>((resolve) => { finish = resolve; });
  let stopping: Promise<number> | undefined;
  let stopHealth: () => void = () => {};
  const shutdown = new ShutdownDelay(opts.shutdownDelayMs, log);

  const stop = (reason: string, code = 0, force = false): Promise<number> => {
    // A stop asked for again during the shutdown delay (a second `shoal stop`, a fatal error) ends the delay.
    if (stopping) { shutdown.skip(reason); return stopping; }
    stopping = (async () => {
      // The delay: /readyz fails and the agent answers drain, while everything keeps serving.
      await shutdown.run(reason, force);
      stopHealth();
      supervisor.beginStop();
      // Kernel accept: the primary takes over accepting and the workers close their descriptors
      // first, so the primary's is the last one and nothing waiting in the kernel queue is reset.
      if (!force) await kernel?.stopAccepting();
      // The port closes here: new connections are refused from now on. Those already accepted
      // are settled below.
      await ports.listener?.closeAfterAccepting();
      log.info({ reason, stopTimeoutMs: opts.stopTimeoutMs }, 'stopping');
      // Connections already accepted are still owed a worker: hand them out before retiring the workers.
      const settled = (): boolean => dispatcher.queued === 0 && dispatcher.unacknowledged === 0 || dispatcher.routable === 0;
      if (!force) await waitFor(settled, opts.stopTimeoutMs);
      // A worker that still has not acknowledged its handoffs is blocked: it would be killed by the
      // stop timeout anyway, and killed now, what it holds goes to workers still taking connections.
      if (!force && !settled()) {
        for (const w of supervisor.workers.filter((x) => x.load.pending > 0)) {
          log.warn({ worker: w.id, connections: w.load.pending }, 'worker did not take its connections within the stop timeout (event loop blocked?); killing it so that others serve them');
          w.child.kill('SIGKILL');
        }
        await waitFor(settled, opts.stopTimeoutMs);
      }
      await supervisor.stopAll(opts.stopTimeoutMs, force);
      dispatcher.abandonQueue();
      ports.close();
      await link?.close();
      hub.close();
      // Followers of `shoal logs -f` are told the cluster stopped, and their connections end.
      outputs.store.close();
      control?.close();
      // Last: until here /readyz answers 'not ready: stopping', /livez still 200 and the agent drain.
      await Promise.all([admin?.close(), agent?.close()]);
      log.info({ code }, 'stopped');
      finish(code);
      return code;
    })();
    return stopping;
  };

  /** This host in the host list other hosts see (status --cluster). */
  const describeHost = (): Record<string, unknown> => {
    const ws = supervisor.workers;
    return {
      hostname: os.hostname(), pid: process.pid, port: address()?.port ?? null, name: opts.name,
      workers: supervisor.slots.length, ready: ws.filter((w) => w.status === 'ready').length,
      connections: ws.reduce((n, w) => n + w.load.conns, 0), inflight: ws.reduce((n, w) => n + w.load.inflight, 0),
      rps: ws.reduce((n, w) => n + w.requestsPerSecond(), 0), sessions: hub.store.size,
    };
  };
  const events: SupervisorEvents = {
    allReady: () => {
      const a = address()!;
      const host = a.family === 'IPv6' ? (a.address === '::' ? 'localhost' : `[${a.address}]`) : (a.address === '0.0.0.0' ? 'localhost' : a.address);
      log.info({ workers: opts.workers, port: a.port, url: `http://${host}:${a.port}` }, 'cluster ready');
    },
    fatal: (err, detail) => {
      if (detail) process.stderr.write(detail.endsWith('\n') ? detail : `${detail}\n`);
      log.error({ code: err.code }, err.message);
      process.stderr.write(`shoal: ${err.message}\n`);
      // A usage error found only once the app ran (a port it cannot have) exits as usage errors do.
      void stop('fatal', err.usage ? 2 : 1, true);
    },
    metrics: (w, m) => admin?.collector.received(w, m),
  };
  const supervisor = new Supervisor(opts, forkSpec(opts, address(), outputs), log, { dispatcher, hub, events, ports: portControl, accept: kernel });
  log.info({ entry: opts.entry, workers: opts.workers, port: address()?.port ?? null, portFrom: opts.port === undefined ? 'the app' : 'options', host: address()?.address ?? opts.host ?? null, balancer: opts.balancer, accept: opts.accept, name: opts.name, cpus: os.availableParallelism() }, 'shoal starting');
  log.info({ balancer: opts.balancer }, 'scheduler chosen');
  const accept = (): AcceptMode => kernel?.mode ?? 'handoff';
  if (!kernel) log.info({ accept: 'handoff', balancer: opts.balancer }, 'accept mode: handoff (the primary accepts and hands each connection to a worker)');
  ops = new Operations(opts, { supervisor, dispatcher, hub, link, kernel, log, address, admin: admin?.url, agent: agent?.address, shutdown });
  const o = ops;
  admin?.serve({
    model: o.model, status: () => o.status(), workers: () => supervisor.workers, http: supervisor.http,
    actions: { reload: () => o.reload(1, (e) => log.info(e, `reload: ${e.event}`)), scale: (to) => o.scale(to) },
  });
  stopHealth = startHealthChecks(opts, supervisor, dispatcher, log);
  // The host's sessions come from Redis before any worker takes traffic (a client whose session
  // is not here yet would get a fresh one). If Redis is down, start anyway: it syncs on return.
  await link?.start();
  supervisor.start();
  return { supervisor, dispatcher, accept, operations: ops, address, done, stop: (reason) => stop(reason), skipDelay: (reason) => shutdown.skip(reason) };
}

/** Polls a condition on the event loop's own schedule; resolves when it holds or the timeout passes. */
function waitFor(cond: () => boolean, timeoutMs: number, everyMs = 10): Promise<void> {
  return new Promise((resolve) => {
    const start = Date.now();
    const tick = (): void => {
      if (cond() || Date.now() - start >= timeoutMs) resolve();
      else setTimeout(tick, everyMs);
    };
    tick();
  });
}
