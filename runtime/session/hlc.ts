/**
 * Hybrid logical clock (Kulkarni et al., "Logical Physical Clocks", 2014):
 * a timestamp is (wall ms, logical counter, node id). It stays close to the
 * physical clock, so "last writer wins" means what people expect, yet it is
 * monotonic on each node even if the wall clock goes back (NTP step, VM
 * migration), and after receive(remote) every later local timestamp is
 * greater than remote: a write made after seeing another one wins over it.
 *
 * Total order: wall, then logical, then node id. Node ids differ between
 * writers, so two distinct events never compare equal.
 *
 * The string form (formatHlc) sorts byte-wise in that same order, so
 * versions are compared as plain strings here, in JSON deltas, and in a Redis
 * Lua script, with no parsing. Hence the fixed-width base-36 fields and the
 * ASCII-only node ids (a byte-wise and a UTF-16 comparison then agree).
 */
import { randomBytes } from 'node:crypto';
import { ShoalError } from '../errors.js';

export interface Hlc {
  /** Milliseconds since the epoch (at least the physical clock at the time it was issued). */
  readonly wall: number;
  /** Counts events within the same `wall` millisecond. */
  readonly logical: number;
  /** The issuing node; breaks ties so that the order is total. */
  readonly node: string;
}

/** A physical clock in ms; injected by tests. */
export type WallClock = () => number;

const WALL_WIDTH = 9; // 36^9 ms ≈ year 5188
const LOGICAL_WIDTH = 4; // 1.68 M events per ms before carrying into wall
export const MAX_WALL = 36 ** WALL_WIDTH - 1;
export const MAX_LOGICAL = 36 ** LOGICAL_WIDTH - 1;
/** Remote timestamps further ahead than this are refused by receive(), so that one host with a wild clock cannot drag every clock into the future. */
export const DEFAULT_MAX_DRIFT_MS = 5 * 60_000;

const NODE_RE = /^[A-Za-z0-9._:-]{1,64}$/;
const ENCODED_RE = /^([0-9a-z]{9})\.([0-9a-z]{4})\.([A-Za-z0-9._:-]{1,64})$/;

export const isNodeId = (node: string): boolean => NODE_RE.test(node);

/** A node id unique to this process incarnation: a restarted node must not reuse its old id, or its fresh clock could issue a timestamp it already issued. */
export function randomNodeId(prefix = 'n'): string {
  return `${prefix}-${randomBytes(6).toString('base64url')}`;
}

export function compareHlc(a: Hlc, b: Hlc): -1 | 0 | 1 {
  if (a.wall !== b.wall) return a.wall < b.wall ? -1 : 1;
  if (a.logical !== b.logical) return a.logical < b.logical ? -1 : 1;
  if (a.node !== b.node) return a.node < b.node ? -1 : 1;
  return 0;
}

/** e.g. `lz3k2ab9c.0001.w1`: wall and logical fixed-width base 36, then the node id. */
export function formatHlc(t: Hlc): string {
  if (!Number.isInteger(t.wall) || t.wall < 0 || t.wall > MAX_WALL) throw new RangeError(`HLC wall out of range: ${t.wall}`);
  if (!Number.isInteger(t.logical) || t.logical < 0 || t.logical > MAX_LOGICAL) throw new RangeError(`HLC logical out of range: ${t.logical}`);
  if (!isNodeId(t.node)) throw new RangeError(`invalid HLC node id: ${JSON.stringify(t.node)}`);
  return `${t.wall.toString(36).padStart(WALL_WIDTH, '0')}.${t.logical.toString(36).padStart(LOGICAL_WIDTH, '0')}.${t.node}`;
}

/** The timestamp encoded in `s`, or undefined if `s` is not one (input from the network is checked with this). */
export function parseHlc(s: string): Hlc | undefined {
  const m = ENCODED_RE.exec(s);
  if (!m) return undefined;
  return { wall: parseInt(m[1]!, 36), logical: parseInt(m[2]!, 36), node: m[3]! };
}

/** The wall time of an encoded timestamp, without a full parse (used for retention cut-offs). */
export const wallOf = (encoded: string): number => parseInt(encoded.slice(0, WALL_WIDTH), 36);

export interface HybridClockOptions {
  /** Physical clock; Date.now by default. */
  readonly wallClock?: WallClock;
  /** See DEFAULT_MAX_DRIFT_MS; Infinity disables the check. */
  readonly maxDriftMs?: number;
}

export class HybridClock {
  readonly node: string;
  readonly #wallClock: WallClock;
  readonly #maxDriftMs: number;
  #wall = 0;
  #logical = 0;

  constructor(node: string, opts: HybridClockOptions = {}) {
    if (!isNodeId(node)) throw new RangeError(`invalid HLC node id ${JSON.stringify(node)}: use 1-64 characters among A-Z a-z 0-9 . _ : -`);
    this.node = node;
    this.#wallClock = opts.wallClock ?? Date.now;
    this.#maxDriftMs = opts.maxDriftMs ?? DEFAULT_MAX_DRIFT_MS;
  }

  /** The last timestamp issued or received (wall 0 before any). */
  get last(): Hlc {
    return { wall: this.#wall, logical: this.#logical, node: this.node };
  }

  /** A timestamp greater than every one this clock issued or received before. */
  now(): Hlc {
    const pt = this.#physical();
    if (pt > this.#wall) return this.#set(pt, 0);
    // The wall clock stood still or went back: keep our wall, count events.
    return this.#set(this.#wall, this.#logical + 1);
  }

  /**
   * Merges a timestamp seen on a message; returns the receive event's own
   * timestamp, greater than both `remote` and everything issued here before.
   * Throws SHOAL_ERR_CLOCK_DRIFT (and leaves the clock unchanged) when
   * `remote` is more than maxDriftMs ahead of the physical clock; the caller
   * may still merge the data it came with, which never needs the clock.
   */
  receive(remote: Hlc): Hlc {
    const pt = this.#physical();
    if (remote.wall - pt > this.#maxDriftMs) {
      throw new ShoalError('SHOAL_ERR_CLOCK_DRIFT', remote.node, String(remote.wall - pt), String(this.#maxDriftMs));
    }
    const wall = Math.max(this.#wall, remote.wall, pt);
    let logical = 0;
    if (wall === this.#wall && wall === remote.wall) logical = Math.max(this.#logical, remote.logical) + 1;
    else if (wall === this.#wall) logical = this.#logical + 1;
    else if (wall === remote.wall) logical = remote.logical + 1;
    return this.#set(wall, logical);
  }

  #physical(): number {
    const t = Math.floor(this.#wallClock());
    return Number.isFinite(t) && t > 0 ? Math.min(t, MAX_WALL) : 0;
  }

  #set(wall: number, logical: number): Hlc {
    // The counter is fixed-width in the encoding: on overflow, carry into the
    // wall (1 ms ahead of real time) rather than break the order.
    if (logical > MAX_LOGICAL) {
      wall += 1;
      logical = 0;
    }
    if (wall > MAX_WALL) throw new RangeError('HLC wall overflow');
    this.#wall = wall;
    this.#logical = logical;
    return { wall, logical, node: this.node };
  }
}
