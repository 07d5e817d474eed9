/**
 * The primary's options: one frozen, validated object (as fastify does with
 * its options). Every timeout the runtime waits on is named here with its
 * default, so no wait in the code is a bare number.
 */
import { BALANCERS, DEFAULT_BALANCER, type BalancerName } from './scheduler/types.js';
import { GATE_BALANCERS, isGateBalancer } from './scheduler/gate.js';
import { ShoalError } from './errors.js';
import { DEFAULT_REDIS_OPTIONS } from './session/redis/link-options.js';
import { checkAdmin, type AdminAddress } from './admin/address.js';

export interface ShoalOptions {
  /** Absolute path of the app's entry file. */
  readonly entry: string;
  readonly workers: number;
  /** The port to serve; undefined: the one the app's first listen asks for (ports.ts DEFAULT_PORT when none). */
  readonly port: number | undefined;
  /** Address the primary binds; undefined = all interfaces (like node's listen(port)). */
  readonly host: string | undefined;
  readonly balancer: BalancerName;
  /**
   * Weight of each slot, in slot order (slots past the list weigh 1): a
   * worker of weight 3 gets three times the connections of one of weight 1
   * (weighted-round-robin, least-conn and least-load divide by it).
   */
  readonly weights: readonly number[];
  /**
   * Who accepts connections: the workers, from the shared socket, gated by
   * load (kernel; least-conn and least-load only), or the primary, which
   * hands each to a worker (handoff; every balancer).
   */
  readonly accept: AcceptMode;
  /**
   * Kernel accept: how far a worker's load key may be above the least
   * loaded one's before it sits out (in connections per unit of weight;
   * least-load counts requests in flight too, so its default is tighter).
   */
  readonly acceptSlack: number;
  /** Kernel accept: the longest a worker sits out on a floor that does not move before it accepts anyway, ms. */
  readonly acceptHoldMs: number;
  /** Cluster name: control socket and logs; several clusters run side by side under different names. */
  readonly name: string;
  /**
   * The name came from --name or SHOAL_NAME: a running cluster of that name
   * is an error. Otherwise (the config file's, or the entry's folder) the
   * port is appended instead, so that hosts of one app run side by side.
   */
  readonly nameGiven: boolean;
  /** Extra arguments passed to the app (after `--`). */
  readonly appArgs: readonly string[];
  readonly verbose: boolean;
  /** Un-acknowledged handoffs allowed per worker (DESIGN.md 1: one or two). */
  readonly creditWindow: number;
  /** Slow start ramp for a new worker, ms (scheduler option). */
  readonly slowStartMs: number;
  /** How long a connection may wait in the primary's queue for a worker before it is closed. */
  readonly queueTimeoutMs: number;
  /** How long a new worker may take to listen (or call ready()) before it counts as failed. */
  readonly readyTimeoutMs: number;
  /** Graceful stop: how long workers may take to finish in-flight requests before being killed. */
  readonly stopTimeoutMs: number;
  /**
   * On a stop, how long the host first keeps serving while it says it is
   * going (/readyz fails, the agent answers drain), so load balancers stop
   * sending before the port closes; 0 = stop at once.
   */
  readonly shutdownDelayMs: number;
  /** Where the HAProxy agent-check answers (agent/server.ts); undefined = off. */
  readonly agent: AdminAddress | undefined;
  /** The agent closes a connection it could not answer within this (a peer that does not read). */
  readonly agentTimeoutMs: number;
  /** Worker load report interval, ms (closes, in-flight, event-loop utilisation, batched). */
  readonly reportIntervalMs: number;
  /** Restart backoff: first delay, cap, and how long a worker must live to reset the backoff. */
  readonly restartDelayMs: number;
  readonly restartDelayMaxMs: number;
  readonly stableAfterMs: number;
  /** Consecutive failed starts (exit before ready) after which a slot is given up. */
  readonly maxStartFailures: number;
  /**
   * Hung-worker failover: a ready worker not heard from for hangTimeoutMs
   * (its event loop is blocked) leaves rotation at once; still silent
   * hangGraceMs later, it is killed and replaced.
   */
  readonly hangTimeoutMs: number;
  readonly hangGraceMs: number;
  /** Resident memory above which a worker is replaced gracefully (replacement first, then drain); 0 = no limit. */
  readonly maxMemoryBytes: number;
  /** Whether the app signals readiness with ready() rather than by listening. */
  readonly waitReady: boolean;
  /** Sessions the host keeps in memory (in the primary and in each worker's replica); least recently used beyond. */
  readonly maxSessions: number;
  /** Bytes of session data the host keeps in memory, per copy; least recently used beyond. */
  readonly maxSessionMemoryBytes: number;
  /** How long `status` waits for each worker's session figures. */
  readonly statusProbeTimeoutMs: number;
  /** Redis that carries sessions between hosts (redis:// or rediss://); undefined = sessions stay in this host. */
  readonly redisUrl: string | undefined;
  /** Prefix of every key shoal writes in Redis: hosts of one app share it, different apps must not. */
  readonly redisPrefix: string;
  /** Extra ioredis options from the config file (TLS, Sentinel, …). */
  readonly redisOptions: Readonly<Record<string, unknown>> | undefined;
  /** The Redis URL names a seed node of a Redis Cluster. */
  readonly redisCluster: boolean;
  /** With Redis: every host holds every session (replicated), or Redis is the store and hosts cache (distributed). */
  readonly sessionsMode: SessionsMode;
  /** Sessions whose changes may wait for Redis (while it is away); past this, or redisQueueMemoryBytes, the queue is dropped and the host re-seeds Redis on return. */
  readonly redisQueueMax: number;
  readonly redisQueueMemoryBytes: number;
  /** Where the admin HTTP server (/metrics, /livez, /readyz, /status) listens; undefined = off. */
  readonly admin: AdminAddress | undefined;
  /** Bearer token every admin request must carry; required when `admin` is not a loopback address. */
  readonly adminToken: string | undefined;
  /** How long a scrape waits for each worker's app metrics (and session figures) before leaving it out. */
  readonly scrapeTimeoutMs: number;
  /** Admin server: the whole request, and its headers, must arrive within these; headers are bounded in size. */
  readonly adminRequestTimeoutMs: number;
  readonly adminHeadersTimeoutMs: number;
  readonly adminMaxHeaderBytes: number;
  /** Dashboard (GET / on the admin server): how often it samples the cluster and pushes a sample to open pages. */
  readonly dashboardIntervalMs: number;
  /** How far back the dashboard's charts reach (the samples a page that opens is sent first). */
  readonly dashboardHistoryMs: number;
  /**
   * Tag each line of app output with its worker (`[w3] `, `[w3 err] `) on its
   * way through the primary: true always, false never, undefined on a terminal
   * only (off one, the app's lines pass unchanged: its JSON stays parseable).
   */
  readonly logPrefix: boolean | undefined;
  /** `shoal logs`: lines of stdout and stderr kept per worker, and bytes of their text. */
  readonly logLines: number;
  readonly logMemoryBytes: number;
  /** Exited workers whose lines are kept (the most recent), so a replaced worker's last lines can still be read. */
  readonly logKeepExited: number;
  /** Longer lines are cut in the buffer (they pass through whole). */
  readonly logLineMaxBytes: number;
  /** App output waiting for a slow reader of the primary's stdout (or stderr) past which its lines are dropped, counted. */
  readonly logPassMaxBytes: number;
  /** Lines waiting for a slow `shoal logs -f` past which they are dropped for it, counted. */
  readonly logFollowMaxBytes: number;
}

export const ACCEPT_MODES = ['kernel', 'handoff'] as const;

/** The largest weight a slot may have (nginx allows as much per server). */
export const MAX_WEIGHT = 1000;
export type AcceptMode = (typeof ACCEPT_MODES)[number];

export const SESSIONS_MODES = ['replicated', 'distributed'] as const;
export type SessionsMode = (typeof SESSIONS_MODES)[number];

export const DEFAULTS = {
  balancer: DEFAULT_BALANCER,
  acceptSlack: { 'least-conn': 1, 'least-load': 0.5 },
  acceptHoldMs: 20,
  creditWindow: 2,
  slowStartMs: 2_000,
  queueTimeoutMs: 10_000,
  readyTimeoutMs: 30_000,
  stopTimeoutMs: 10_000,
  shutdownDelayMs: 0,
  /**
   * The shutdown delay off a terminal when a balancer can learn of the stop
   * (--admin or --agent on): lightship's default, about one agent-inter
   * times fall plus margin, or one readinessProbe period.
   */
  shutdownDelayServedMs: 5_000,
  agentTimeoutMs: 2_000,
  reportIntervalMs: 10,
  restartDelayMs: 100,
  restartDelayMaxMs: 15_000,
  stableAfterMs: 10_000,
  maxStartFailures: 5,
  waitReady: false,
  verbose: false,
  hangTimeoutMs: 3_000,
  hangGraceMs: 5_000,
  maxMemoryBytes: 0,
  maxSessions: 100_000,
  maxSessionMemoryBytes: 64 * 1024 * 1024,
  statusProbeTimeoutMs: 1_000,
  redisPrefix: 'shoal:',
  redisQueueMax: DEFAULT_REDIS_OPTIONS.queueMax,
  redisQueueMemoryBytes: DEFAULT_REDIS_OPTIONS.queueMaxBytes,
  sessionsMode: 'replicated',
  scrapeTimeoutMs: 500,
  adminRequestTimeoutMs: 10_000,
  adminHeadersTimeoutMs: 5_000,
  adminMaxHeaderBytes: 8 * 1024,
  dashboardIntervalMs: 1_000,
  dashboardHistoryMs: 5 * 60_000,
  logLines: 1_000,
  logMemoryBytes: 1024 * 1024,
  logKeepExited: 5,
  logLineMaxBytes: 16 * 1024,
  logPassMaxBytes: 1024 * 1024,
  logFollowMaxBytes: 1024 * 1024,
} as const;

export type ShoalOptionsInput = Partial<ShoalOptions> & Pick<ShoalOptions, 'entry' | 'workers' | 'name'>;

const int = (name: string, v: number, min: number, max = Number.MAX_SAFE_INTEGER): number => {
  if (!Number.isInteger(v) || v < min || v > max) throw new ShoalError('SHOAL_ERR_BAD_VALUE', name, String(v), `an integer from ${min} to ${max}`);
  return v;
};

/** A redis:// or rediss:// URL; the error never repeats a password. */
function redisUrl(v: string): string {
  let u: URL | undefined;
  try { u = new URL(v); } catch { u = undefined; }
  if (!u || (u.protocol !== 'redis:' && u.protocol !== 'rediss:') || !u.hostname) {
    const shown = u?.password ? v.replace(u.password, '***') : v;
    throw new ShoalError('SHOAL_ERR_BAD_VALUE', '--redis', shown, 'a URL such as redis://127.0.0.1:6379 or rediss://user:password@host:6380/0');
  }
  return v;
}

/** kernel for the balancers that decide by load, handoff for those that decide per connection. */
function acceptMode(v: string | undefined, balancer: BalancerName): AcceptMode {
  if (v === undefined) return isGateBalancer(balancer) ? 'kernel' : 'handoff';
  if (!(ACCEPT_MODES as readonly string[]).includes(v)) throw new ShoalError('SHOAL_ERR_BAD_VALUE', '--accept', v, 'kernel or handoff');
  if (v === 'kernel' && !isGateBalancer(balancer)) {
    throw new ShoalError('SHOAL_ERR_BAD_VALUE', '--accept', v, `handoff with --balancer ${balancer}, which decides per connection (kernel accept works with ${GATE_BALANCERS.join(' and ')})`);
  }
  return v as AcceptMode;
}

const positive = (name: string, v: number): number => {
  if (!Number.isFinite(v) || v <= 0) throw new ShoalError('SHOAL_ERR_BAD_VALUE', name, String(v), 'a number above 0');
  return v;
};

function sessionsMode(v: string, redis: string | undefined): SessionsMode {
  if (!(SESSIONS_MODES as readonly string[]).includes(v)) throw new ShoalError('SHOAL_ERR_BAD_VALUE', '--sessions', v, 'replicated or distributed');
  if (v === 'distributed' && redis === undefined) throw new ShoalError('SHOAL_ERR_BAD_VALUE', '--sessions', v, 'replicated, or distributed together with --redis URL (Redis is then the session store)');
  return v as SessionsMode;
}

/** Validates and freezes; throws ShoalError naming the bad option. */
export function resolveOptions(input: ShoalOptionsInput): ShoalOptions {
  const balancer = input.balancer ?? DEFAULTS.balancer;
  if (!(BALANCERS as readonly string[]).includes(balancer)) {
    throw new ShoalError('SHOAL_ERR_UNKNOWN_BALANCER', balancer, BALANCERS.join(', '));
  }
  const o: ShoalOptions = {
    entry: input.entry,
    workers: int('--workers', input.workers, 1, 1024),
    port: input.port === undefined ? undefined : int('--port', input.port, 0, 65535),
    host: input.host,
    balancer,
    accept: acceptMode(input.accept, balancer),
    weights: Object.freeze((input.weights ?? []).map((w, i) => int(`--weights (slot ${i + 1})`, w, 1, MAX_WEIGHT))),
    acceptSlack: positive('acceptSlack', input.acceptSlack ?? (balancer === 'least-load' ? DEFAULTS.acceptSlack['least-load'] : DEFAULTS.acceptSlack['least-conn'])),
    acceptHoldMs: int('acceptHoldMs', input.acceptHoldMs ?? DEFAULTS.acceptHoldMs, 1),
    name: input.name,
    nameGiven: input.nameGiven ?? false,
    appArgs: Object.freeze([...(input.appArgs ?? [])]),
    verbose: input.verbose ?? DEFAULTS.verbose,
    creditWindow: int('creditWindow', input.creditWindow ?? DEFAULTS.creditWindow, 1, 64),
    slowStartMs: int('slowStartMs', input.slowStartMs ?? DEFAULTS.slowStartMs, 0),
    queueTimeoutMs: int('queueTimeoutMs', input.queueTimeoutMs ?? DEFAULTS.queueTimeoutMs, 1),
    readyTimeoutMs: int('readyTimeoutMs', input.readyTimeoutMs ?? DEFAULTS.readyTimeoutMs, 1),
    stopTimeoutMs: int('stopTimeoutMs', input.stopTimeoutMs ?? DEFAULTS.stopTimeoutMs, 0),
    shutdownDelayMs: int('--shutdown-delay', input.shutdownDelayMs ?? DEFAULTS.shutdownDelayMs, 0, 3_600_000),
    agent: input.agent === undefined ? undefined : Object.freeze({ ...input.agent }),
    agentTimeoutMs: int('agentTimeoutMs', input.agentTimeoutMs ?? DEFAULTS.agentTimeoutMs, 1),
    reportIntervalMs: int('reportIntervalMs', input.reportIntervalMs ?? DEFAULTS.reportIntervalMs, 1),
    restartDelayMs: int('restartDelayMs', input.restartDelayMs ?? DEFAULTS.restartDelayMs, 0),
    restartDelayMaxMs: int('restartDelayMaxMs', input.restartDelayMaxMs ?? DEFAULTS.restartDelayMaxMs, 0),
    stableAfterMs: int('stableAfterMs', input.stableAfterMs ?? DEFAULTS.stableAfterMs, 0),
    maxStartFailures: int('maxStartFailures', input.maxStartFailures ?? DEFAULTS.maxStartFailures, 1),
    waitReady: input.waitReady ?? DEFAULTS.waitReady,
    hangTimeoutMs: int('--hang-timeout', input.hangTimeoutMs ?? DEFAULTS.hangTimeoutMs, 100),
    hangGraceMs: int('--hang-grace', input.hangGraceMs ?? DEFAULTS.hangGraceMs, 0),
    maxMemoryBytes: int('--max-memory', input.maxMemoryBytes ?? DEFAULTS.maxMemoryBytes, 0),
    maxSessions: int('--max-sessions', input.maxSessions ?? DEFAULTS.maxSessions, 1),
    maxSessionMemoryBytes: int('--max-session-memory', input.maxSessionMemoryBytes ?? DEFAULTS.maxSessionMemoryBytes, 1),
    statusProbeTimeoutMs: int('statusProbeTimeoutMs', input.statusProbeTimeoutMs ?? DEFAULTS.statusProbeTimeoutMs, 1),
    redisUrl: input.redisUrl === undefined ? undefined : redisUrl(input.redisUrl),
    redisPrefix: input.redisPrefix ?? DEFAULTS.redisPrefix,
    redisOptions: input.redisOptions === undefined ? undefined : Object.freeze({ ...input.redisOptions }),
    sessionsMode: sessionsMode(input.sessionsMode ?? DEFAULTS.sessionsMode, input.redisUrl),
    redisCluster: input.redisCluster ?? false,
    redisQueueMax: int('--redis-queue-max', input.redisQueueMax ?? DEFAULTS.redisQueueMax, 1),
    redisQueueMemoryBytes: int('--redis-queue-memory', input.redisQueueMemoryBytes ?? DEFAULTS.redisQueueMemoryBytes, 1),
    admin: input.admin === undefined ? undefined : Object.freeze({ ...input.admin }),
    adminToken: input.adminToken,
    scrapeTimeoutMs: int('--scrape-timeout', input.scrapeTimeoutMs ?? DEFAULTS.scrapeTimeoutMs, 1, 60_000),
    adminRequestTimeoutMs: int('adminRequestTimeoutMs', input.adminRequestTimeoutMs ?? DEFAULTS.adminRequestTimeoutMs, 1),
    adminHeadersTimeoutMs: int('adminHeadersTimeoutMs', input.adminHeadersTimeoutMs ?? DEFAULTS.adminHeadersTimeoutMs, 1),
    adminMaxHeaderBytes: int('adminMaxHeaderBytes', input.adminMaxHeaderBytes ?? DEFAULTS.adminMaxHeaderBytes, 1024),
    dashboardIntervalMs: int('dashboardIntervalMs', input.dashboardIntervalMs ?? DEFAULTS.dashboardIntervalMs, 100, 60_000),
    dashboardHistoryMs: int('dashboardHistoryMs', input.dashboardHistoryMs ?? DEFAULTS.dashboardHistoryMs, 1_000, 3_600_000),
    logPrefix: input.logPrefix,
    logLines: int('--log-lines', input.logLines ?? DEFAULTS.logLines, 1),
    logMemoryBytes: int('--log-memory', input.logMemoryBytes ?? DEFAULTS.logMemoryBytes, 1),
    logKeepExited: int('logKeepExited', input.logKeepExited ?? DEFAULTS.logKeepExited, 0),
    logLineMaxBytes: int('logLineMaxBytes', input.logLineMaxBytes ?? DEFAULTS.logLineMaxBytes, 1),
    logPassMaxBytes: int('logPassMaxBytes', input.logPassMaxBytes ?? DEFAULTS.logPassMaxBytes, 1),
    logFollowMaxBytes: int('logFollowMaxBytes', input.logFollowMaxBytes ?? DEFAULTS.logFollowMaxBytes, 1),
  };
  if (o.admin) checkAdmin(o.admin, o.adminToken);
  return Object.freeze(o);
}
