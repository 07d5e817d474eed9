/**
 * The control protocol: one JSON object per line, both ways. A request is
 * answered by zero or more progress lines ({ event }) and one final line
 * ({ ok: true, ... } or { ok: false, code, error, app? }), then the primary closes
 * the connection. Lines are bounded: an oversized, garbage or half-written
 * request gets an error reply and disturbs nothing else.
 *
 * `logs` answers with one { event: 'log', worker, stream, t, line, cut? }
 * per line, oldest first. With `follow` it is a stream: new lines come as
 * they are printed, with { event: 'dropped', lines } where the client was too
 * slow to take them all, until the client goes away (it just closes the
 * connection) or the cluster stops (a final SHOAL_ERR_CLUSTER_STOPPED reply).
 */
import type { AppSite } from '../errors.js';

export const MAX_LINE_BYTES = 64 * 1024;
/** A client that connects and says nothing (or half a line) is dropped after this long. */
export const REQUEST_TIMEOUT_MS = 5_000;
/** Once the cluster stops, how long a connection still open may take to get its last reply out before it is cut. */
export const CLOSE_GRACE_MS = 1_000;

export type ControlRequest =
  | { cmd: 'status'; cluster?: boolean }
  | { cmd: 'stop' }
  | { cmd: 'scale'; to: string }
  | { cmd: 'reload'; parallel?: number }
  /** The last `lines` lines of every worker kept (or of `worker`); `follow`: then every new one. */
  | { cmd: 'logs'; lines: number; worker?: number; follow?: boolean };

export type ControlReply =
  | { ok: true; [k: string]: unknown }
  /** `app`: where the app's code failed, when a worker failed to start (reload, scale); older primaries never send it. */
  | { ok: false; code: string; error: string; app?: AppSite };

export interface ControlEvent { event: string; [k: string]: unknown }

const COMMANDS = new Set(['status', 'stop', 'scale', 'reload', 'logs']);

const bad = (error: string): ControlReply => ({ ok: false, code: 'SHOAL_ERR_CONTROL_BAD_REQUEST', error });
const isCount = (v: unknown, min: number): v is number => Number.isInteger(v) && (v as number) >= min;

function parseLogs(o: Record<string, unknown>): ControlRequest | ControlReply {
  if (!isCount(o.lines, 0)) return bad('logs needs "lines", a whole number of at least 0');
  if (o.worker !== undefined && !isCount(o.worker, 1)) return bad('logs "worker" must be a worker id (a whole number of at least 1)');
  if (o.follow !== undefined && typeof o.follow !== 'boolean') return bad('logs "follow" must be true or false');
  return { cmd: 'logs', lines: o.lines, ...(o.worker === undefined ? {} : { worker: o.worker as number }), ...(o.follow ? { follow: true } : {}) };
}

/** A request that streams until the client goes away: its connection is read to notice that. */
export const isStreaming = (req: ControlRequest): boolean => req.cmd === 'logs' && req.follow === true;

/** Validates one request line; returns the request or an error reply. */
export function parseRequest(line: string): ControlRequest | ControlReply {
  let v: unknown;
  try { v = JSON.parse(line); } catch { return { ok: false, code: 'SHOAL_ERR_CONTROL_BAD_REQUEST', error: 'request is not valid JSON' }; }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return { ok: false, code: 'SHOAL_ERR_CONTROL_BAD_REQUEST', error: 'request must be a JSON object' };
  const o = v as Record<string, unknown>;
  if (typeof o.cmd !== 'string' || !COMMANDS.has(o.cmd)) {
    return { ok: false, code: 'SHOAL_ERR_CONTROL_BAD_REQUEST', error: `unknown command ${JSON.stringify(o.cmd)}; known: ${[...COMMANDS].join(', ')}` };
  }
  if (o.cmd === 'scale') {
    if (typeof o.to !== 'string' || !/^[+-]?\d+$/.test(o.to)) return { ok: false, code: 'SHOAL_ERR_CONTROL_BAD_REQUEST', error: 'scale needs "to": "N", "+N" or "-N"' };
    return { cmd: 'scale', to: o.to };
  }
  if (o.cmd === 'reload') {
    if (o.parallel !== undefined && (!Number.isInteger(o.parallel) || (o.parallel as number) < 1)) {
      return { ok: false, code: 'SHOAL_ERR_CONTROL_BAD_REQUEST', error: 'reload "parallel" must be a whole number of at least 1' };
    }
    return o.parallel === undefined ? { cmd: 'reload' } : { cmd: 'reload', parallel: o.parallel as number };
  }
  if (o.cmd === 'logs') return parseLogs(o);
  if (o.cmd === 'status' && o.cluster === true) return { cmd: 'status', cluster: true };
  return { cmd: o.cmd as 'status' | 'stop' };
}

export const isReply = (v: ControlRequest | ControlReply): v is ControlReply => 'ok' in v;
