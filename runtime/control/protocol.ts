/**
 * The control protocol: one JSON object per line, both ways. A request is
 * answered by zero or more progress lines ({ event }) and one final line
 * ({ ok: true, ... } or { ok: false, code, error, app? }), then the primary closes
 * the connection. Lines are bounded: an oversized, garbage or half-written
 * request gets an error reply and disturbs nothing else.
 */
import type { AppSite } from '../errors.js';

export const MAX_LINE_BYTES = 64 * 1024;
/** A client that connects and says nothing (or half a line) is dropped after this long. */
export const REQUEST_TIMEOUT_MS = 5_000;

export type ControlRequest =
  | { cmd: 'status'; cluster?: boolean }
  | { cmd: 'stop' }
  | { cmd: 'scale'; to: string }
  | { cmd: 'reload'; parallel?: number };

export type ControlReply =
  | { ok: true; [k: string]: unknown }
  /** `app`: where the app's code failed, when a worker failed to start (reload, scale); older primaries never send it. */
  | { ok: false; code: string; error: string; app?: AppSite };

export interface ControlEvent { event: string; [k: string]: unknown }

const COMMANDS = new Set(['status', 'stop', 'scale', 'reload']);

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
  if (o.cmd === 'status' && o.cluster === true) return { cmd: 'status', cluster: true };
  return { cmd: o.cmd as 'status' | 'stop' };
}

export const isReply = (v: ControlRequest | ControlReply): v is ControlReply => 'ok' in v;
