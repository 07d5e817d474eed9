/**
 * The one picture of the cluster (DESIGN.md, "One picture of the cluster,
 * many views"): what the primary's parts hold, gathered in one object.
 * `shoal status --json` prints it, the admin server's /status serves it,
 * /readyz decides from it (readiness.ts) and the metrics are read from it
 * (metrics/shoal-metrics.ts). No view computes anything it does not hold.
 *
 * snapshot() is synchronous and cheap (readiness asks it on every probe);
 * read() first asks each worker for its replica's figures, bounded by a
 * timeout, and, for the cluster view, Redis for the host list.
 */
import { agentAnswer } from '../agent/weight.js';
import type { ReplicaStats } from '../ipc/messages.js';
import { within } from '../within.js';
import type { BucketFigures, HttpFigures } from '../metrics/totals.js';
import type { ShoalOptions } from '../options.js';
import type { SessionHub } from '../session/hub.js';
import type { HostEntry } from '../session/redis/membership.js';
import type { LinkStats, RedisLink } from '../session/redis/link.js';
import { redactUrl } from '../session/redis/link-options.js';
import type { Dispatcher } from './dispatcher.js';
import type { KernelAccept } from './kernel-accept.js';
import type { RestartReason, Supervisor } from './supervisor.js';

/** starting, ready, draining, exited (a worker's own), restarting (its slot waits to fork again), failed (given up). */
export type SlotState = 'starting' | 'ready' | 'draining' | 'exited' | 'restarting' | 'failed';

export interface WorkerRow {
  readonly slot: number;
  readonly id: number | null;
  readonly pid: number | null;
  readonly state: SlotState;
  /** Out of rotation because it stopped answering (blocked event loop), since this many ms; only when so. */
  readonly hungMs?: number;
  readonly uptimeMs: number;
  readonly restarts: number;
  /** The slot's weight (--weights); 1 unless given. */
  readonly weight: number;
  readonly connections: number;
  readonly acceptPaused?: boolean;
  readonly inflight: number;
  readonly rps: number;
  readonly elu: number;
  readonly rssBytes: number;
  readonly sessions: ReplicaStats | null;
  readonly error?: string;
}

export interface ReloadFigures {
  readonly done: number;
  readonly failed: number;
  /** Asked for while another reload or scale ran. */
  readonly refused: number;
  /** Durations of the reloads that ran (done or failed), seconds. */
  readonly duration: BucketFigures;
}

export interface PrimaryState {
  readonly pid: number;
  readonly name: string;
  readonly uptimeMs: number;
  readonly balancer: string;
  readonly accept: string;
  readonly acceptFallback?: string;
  readonly kernelAccepted: number;
  /** The port served; null until the app's first listen decides it (no port given). */
  readonly port: number | null;
  /** The admin server's URL (never its token), or null when it is off. */
  readonly admin: string | null;
  /** The HAProxy agent (--agent): where it listens and what it answers now; null when it is off. */
  readonly agent: { readonly address: string; readonly answer: string } | null;
  readonly queued: number;
  readonly unacknowledged: number;
  readonly operation: string | null;
  /** A stop has begun: readiness fails from here on. */
  readonly stopping: boolean;
  /** During the shutdown delay: ms left before the graceful stop (the host still serves; readiness fails). */
  readonly stoppingInMs?: number;
  readonly accepted: number;
  readonly handedOff: number;
  /** Handoffs delivered at node's own receipt of the handle (the others, by the worker's ack). */
  readonly receipted: number;
  readonly redispatched: number;
  readonly refused: number;
  readonly queueTimeouts: number;
  readonly restartsByReason: Readonly<Record<RestartReason, number>>;
  readonly reloads: ReloadFigures;
  readonly http: HttpFigures;
  readonly sessions: { sessions: number; bytes: number; expired: number; evicted: number; dropped: number };
  readonly redis: (LinkStats & { url: string; prefix: string; mode: string; host: string }) | null;
}

/** A type, not an interface: it is a control reply's body, which must index as a record. */
export type ClusterState = {
  /** Only in the cluster view (status --cluster, /metrics with Redis): every host sharing this cluster's Redis. */
  readonly hosts?: HostEntry[];
  readonly primary: PrimaryState;
  readonly workers: WorkerRow[];
};

export interface ModelParts {
  readonly opts: ShoalOptions;
  readonly supervisor: Supervisor;
  readonly dispatcher: Dispatcher;
  readonly hub: SessionHub;
  readonly link?: RedisLink | undefined;
  readonly kernel?: KernelAccept | undefined;
  readonly admin?: string | undefined;
  /** The HAProxy agent's address, when --agent is on. */
  readonly agent?: string | undefined;
  /** The served port's address, once bound. */
  readonly address: () => { readonly port: number } | undefined;
  /** The shutdown delay, when one may run. */
  readonly shutdown?: { remainingMs(now?: number): number | null } | undefined;
}

/** The extra parts only Operations knows (what runs now, the reloads so far). */
export interface OperationsView {
  operation(): string | null;
  reloads(): ReloadFigures;
}

export class ClusterModel {
  readonly #p: ModelParts;
  readonly #ops: OperationsView;
  readonly #startedAt = Date.now();

  constructor(parts: ModelParts, ops: OperationsView) {
    this.#p = parts;
    this.#ops = ops;
  }

  /** Whether the cluster view (hosts) can be read: only with Redis. */
  get shared(): boolean { return this.#p.link !== undefined; }

  /**
   * The state with each worker's replica figures (waiting up to
   * probeTimeoutMs for them) and, with `cluster`, the host list (left out
   * when Redis has not given it within hostsTimeoutMs, if that is given).
   */
  async read(o: { probeTimeoutMs: number; cluster?: boolean; hostsTimeoutMs?: number }): Promise<ClusterState> {
    const link = o.cluster ? this.#p.link : undefined;
    const [replicas, hosts] = await Promise.all([
      this.#p.hub.probe(o.probeTimeoutMs),
      link && (o.hostsTimeoutMs === undefined ? link.hosts() : within(link.hosts(), o.hostsTimeoutMs)),
    ]);
    return this.snapshot(replicas, hosts);
  }

  /** The state as the primary holds it now; session figures only for the workers in `replicas`. */
  snapshot(replicas: ReadonlyMap<number, ReplicaStats> = new Map(), hosts?: HostEntry[]): ClusterState {
    const { opts, supervisor, dispatcher, hub, link, kernel } = this.#p;
    const now = Date.now();
    const hs = hub.stats();
    const stoppingIn = this.#p.shutdown?.remainingMs(now) ?? null;
    const state: ClusterState = {
      ...(hosts ? { hosts } : {}),
      primary: {
        pid: process.pid,
        name: opts.name,
        uptimeMs: now - this.#startedAt,
        balancer: opts.balancer,
        accept: kernel?.mode ?? 'handoff',
        ...(kernel?.fallback ? { acceptFallback: kernel.fallback } : {}),
        kernelAccepted: kernel?.accepted ?? 0,
        port: this.#p.address()?.port ?? null,
        admin: this.#p.admin ?? null,
        agent: null,
        queued: dispatcher.queued,
        unacknowledged: dispatcher.unacknowledged,
        operation: this.#ops.operation(),
        stopping: supervisor.stopping || stoppingIn !== null,
        ...(stoppingIn !== null ? { stoppingInMs: stoppingIn } : {}),
        ...dispatcher.stats,
        restartsByReason: supervisor.restartsByReason,
        reloads: this.#ops.reloads(),
        http: supervisor.http.figures(),
        sessions: { sessions: hs.sessions, bytes: hs.bytes, expired: hs.expired, evicted: hs.evicted, dropped: hs.dropped },
        redis: link ? { url: redactUrl(opts.redisUrl!), prefix: opts.redisPrefix, mode: opts.sessionsMode, host: link.hostId, ...link.stats() } : null,
      },
      workers: supervisor.slots.map((s): WorkerRow => {
        const w = s.worker;
        const paused = w ? kernel?.pausedOf(w) : undefined;
        return {
          slot: s.n,
          id: w?.id ?? null,
          pid: w?.pid ?? null,
          state: s.givenUp ? 'failed' : w?.status ?? 'restarting',
          ...(w?.hungSince !== undefined ? { hungMs: now - w.hungSince } : {}),
          uptimeMs: w ? now - w.startedAt : 0,
          restarts: s.restarts,
          weight: this.#p.opts.weights[s.n - 1] ?? 1,
          connections: w?.load.conns ?? 0,
          ...(paused !== undefined ? { acceptPaused: paused } : {}),
          inflight: w?.load.inflight ?? 0,
          rps: w ? w.requestsPerSecond(now) : 0,
          elu: w ? Math.round(w.load.elu * 1000) / 1000 : 0,
          rssBytes: w?.rss ?? 0,
          sessions: (w && replicas.get(w.id)) ?? null,
          ...(s.lastError ? { error: s.lastError } : {}),
        };
      }),
    };
    // The agent's answer is decided from the rest of the state, as HAProxy would get it now.
    const agent = this.#p.agent;
    return agent ? { ...state, primary: { ...state.primary, agent: { address: agent, answer: agentAnswer(state).trim() } } } : state;
  }
}
