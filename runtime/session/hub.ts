/**
 * The primary's side of session replication: the host's copy of every
 * session, the fan-out of each worker's changes to the others, and the
 * snapshot that seeds a new worker.
 *
 * Seeding without a pause: a new worker becomes a member (receives every
 * change from then on) in the same turn that its snapshot starts, and the
 * snapshot then goes out in slices, each sent when the channel has taken the
 * previous one. A change that lands meanwhile may reach the worker before or
 * after the slice holding its session: merge is commutative and idempotent
 * (model.ts), so the result is the same. The worker says `sess-synced` after
 * the last slice and only then becomes routable.
 *
 * Nothing here does more than merge in memory and write to channels; a
 * malformed write (a bug, a stray process.send) is logged and dropped,
 * never merged into the copy every new worker starts from.
 */
import type { Logger } from 'pino';
import type { ReplicaStats, SessionChanges, ToWorker } from '../ipc/messages.js';
import { redactId } from './ids.js';
import { join, sizeOf, type Delta, type SessionState } from './model.js';
import { preciseNow } from './samples.js';
import { SessionStore, type SessionStoreOptions, type StoreStats } from './store.js';
import { checkChanges, maxVersionOf } from './validate.js';

/** A snapshot slice holds sessions up to about this many bytes of data. */
export const SYNC_SLICE_BYTES = 256 * 1024;
/** Versions, timestamps and JSON punctuation a session carries beyond its data, roughly. */
const SESSION_OVERHEAD_BYTES = 64;

/** A worker as the hub sees it. `send`'s callback runs once the message is written to the channel. */
export interface Member {
  readonly id: number;
  send(msg: ToWorker, handle?: undefined, cb?: (err: Error | null) => void): boolean;
}

interface Probe { readonly pending: Set<Member>; readonly results: Map<Member, ReplicaStats>; readonly done: () => void }

export class SessionHub {
  readonly store: SessionStore;
  readonly #log: Logger;
  readonly #members = new Set<Member>();
  readonly #probes = new Map<number, Probe>();
  #nextProbe = 1;
  #dropped = 0;
  /**
   * Carries this host's changes to other hosts (the Redis link), when there
   * are any; resolves once they are there, and the writer's ack waits for it
   * (read-your-writes across hosts, see manager.ts).
   */
  publish: ((changes: SessionChanges) => Promise<void>) | undefined;
  /** Reads a session this host does not hold from the shared store (the Redis link), when there is one. */
  load: ((id: string) => Promise<SessionState | undefined>) | undefined;
  /** Changes of this host not yet in the shared store (the link's queue), to add to what load() read. */
  pending: ((id: string) => Delta | undefined) | undefined;
  /**
   * Distributed mode: the host's copy is a near-cache of the shared store,
   * holding only whole sessions (read from it, or fetched through it): a
   * change to a session it does not hold is passed on but not kept.
   */
  readonly #nearCache: boolean;
  /** Sessions being read from the shared store, with the changes that arrived meanwhile. */
  readonly #loading = new Map<string, Delta>();
  /** The last read from the shared store failed: the next failures are not logged again (status shows Redis down). */
  #loadFailing = false;

  constructor(log: Logger, opts: SessionStoreOptions & { nearCache?: boolean } = {}) {
    this.store = new SessionStore(opts);
    this.#log = log;
    this.#nearCache = opts.nearCache === true;
  }

  stats(): StoreStats & { dropped: number } { return { ...this.store.stats(), dropped: this.#dropped }; }

  /** Makes `m` a member and streams it the host's sessions; it answers sess-synced after the last slice. */
  attach(m: Member): void {
    this.#members.add(m);
    const it = this.store.entries();
    const next = (): void => {
      if (!this.#members.has(m)) return; // it exited meanwhile
      const slice: [string, SessionState][] = [];
      let bytes = 0;
      let done = false;
      while (bytes < SYNC_SLICE_BYTES) {
        const r = it.next();
        if (r.done === true) { done = true; break; }
        slice.push(r.value);
        bytes += sizeOf(r.value[1]) + SESSION_OVERHEAD_BYTES;
      }
      m.send({ shoal: 'sess-sync', sessions: slice, done }, undefined, (err) => { if (!err && !done) next(); });
    };
    next();
  }

  detach(m: Member): void {
    this.#members.delete(m);
    for (const p of this.#probes.values()) if (p.pending.delete(m) && p.pending.size === 0) p.done();
  }

  /**
   * A worker's changes: merge them into the host's copy, pass them to every
   * other member, then ack (in that order: see replica.ts on read-your-writes).
   */
  write(from: Member, seq: number, t: number, changes: SessionChanges): void {
    const problem = checkChanges(changes);
    if (problem !== undefined) {
      this.#dropped++;
      this.#log.error({ worker: from.id, problem }, 'dropped a malformed session change from a worker');
    } else {
      for (const [id, delta] of changes) this.#keep(id, delta, from.id);
      const msg: ToWorker = { shoal: 'sess-delta', t, changes };
      for (const m of this.#members) if (m !== from) m.send(msg);
      const shared = this.publish?.(changes);
      if (shared) { void shared.then(() => from.send({ shoal: 'sess-ack', seq })); return; }
    }
    from.send({ shoal: 'sess-ack', seq });
  }

  /** Changes from another host (already validated): merge them and pass them to every worker. */
  applyRemote(changes: SessionChanges): void {
    const applied: SessionChanges = [];
    for (const [id, delta] of changes) {
      // A session this host dropped (its bounds) may have changes of its own still waiting for
      // Redis: they go back in with it, or the copy rebuilt from Redis would lack them for good
      // (this host never reads its own log entries).
      const held = this.pending === undefined ? undefined : this.store.has(id);
      const own = held === false ? this.pending?.(id) : undefined;
      const d = own === undefined ? delta : join(delta, own);
      if (this.#keep(id, d, undefined, held) || this.#nearCache) applied.push([id, d]);
    }
    if (applied.length === 0) return;
    const msg: ToWorker = { shoal: 'sess-delta', t: preciseNow(), changes: applied };
    for (const m of this.#members) m.send(msg);
  }

  /** Distributed mode, after a gap in the log: forget every cached session here and in the workers. */
  invalidate(): void {
    this.store.clear();
    for (const m of this.#members) m.send({ shoal: 'sess-drop' });
  }

  /**
   * A worker asks for a session it does not hold: from the host's copy, else
   * from the shared store. Always answered: with null if none, and marked
   * unavailable when the shared store could not be asked.
   * Replicated mode: what the shared store had reaches every worker, as a
   * change from another host would. Distributed mode: only the asker, with
   * this host's changes not yet written there and those that arrived while
   * it was read added, so the copy is whole and current.
   */
  fetch(from: Member, req: number, id: string, min?: string): void {
    const local = this.store.get(id);
    const current = local !== undefined && (min === undefined || (maxVersionOf(local) ?? '') >= min);
    if (current || this.load === undefined) {
      from.send({ shoal: 'sess-fetched', req, id, state: local ?? null });
      return;
    }
    const first = !this.#loading.has(id);
    if (first) this.#loading.set(id, {});
    this.load(id).then(
      (state) => {
        const during = this.#loading.get(id) ?? {};
        if (first) this.#loading.delete(id);
        this.#loadFailing = false;
        if (state !== undefined && !this.#nearCache) this.applyRemote([[id, state]]);
        else if (state !== undefined) {
          const whole = join(join(state, during), this.pending?.(id) ?? {});
          this.store.applyDelta(id, whole, { enforceLimit: false });
        }
        from.send({ shoal: 'sess-fetched', req, id, state: this.store.get(id) ?? null });
      },
      (e: Error) => {
        if (first) this.#loading.delete(id);
        if (!this.#loadFailing) this.#log.warn({ session: redactId(id), err: e.message }, 'could not load a session from the shared store (no more of these until a read works again)');
        this.#loadFailing = true;
        // What this host has, if anything (older than `min`, maybe): better than nothing.
        from.send({ shoal: 'sess-fetched', req, id, state: this.store.get(id) ?? null, unavailable: true });
      },
    );
  }

  /** Merges a change into the host's copy (near-cache: only into a session it holds); true if kept. `held`: store.has(id), when the caller already asked. */
  #keep(id: string, delta: Delta, worker?: number, held?: boolean): boolean {
    const loading = this.#loading.get(id);
    if (loading !== undefined) this.#loading.set(id, join(loading, delta));
    if (this.#nearCache && !(held ?? this.store.has(id))) return false;
    try {
      return this.store.applyDelta(id, delta, { enforceLimit: false }) !== undefined;
    } catch (e) {
      this.#log.error({ worker, session: redactId(id), err: (e as Error).message }, 'could not merge a session change');
      return false;
    }
  }

  /** Asks every member for its figures; resolves with those that answered within `timeoutMs`. */
  probe(timeoutMs: number): Promise<Map<number, ReplicaStats>> {
    const probe = this.#nextProbe++;
    return new Promise((resolve) => {
      const pending = new Set(this.#members);
      const results = new Map<Member, ReplicaStats>();
      const done = (): void => {
        clearTimeout(timer);
        this.#probes.delete(probe);
        resolve(new Map([...results].map(([m, s]) => [m.id, s])));
      };
      const timer = setTimeout(done, timeoutMs);
      this.#probes.set(probe, { pending, results, done });
      if (pending.size === 0) { done(); return; }
      for (const m of pending) m.send({ shoal: 'sess-probe', probe });
    });
  }

  /** A member's answer to a probe. */
  answer(from: Member, probe: number, stats: ReplicaStats): void {
    const p = this.#probes.get(probe);
    if (!p || !p.pending.delete(from)) return;
    p.results.set(from, stats);
    if (p.pending.size === 0) p.done();
  }

  close(): void {
    this.#members.clear();
    this.store.close();
  }
}
