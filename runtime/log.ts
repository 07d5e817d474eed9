/**
 * pino logger for the primary. JSON lines when stdout is not a terminal (for
 * log shippers and tests); on a terminal, one readable line per event. The
 * pretty form is a few lines of our own rather than pino-pretty, which would
 * add a dependency tree and start-up time for a cosmetic job.
 */
import pino, { type Logger, type DestinationStream } from 'pino';

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const COLORS: Record<number, string> = { 10: '90', 20: '90', 30: '36', 40: '33', 50: '31', 60: '31' };
const HIDDEN = new Set(['level', 'time', 'pid', 'hostname', 'msg', 'name']);

function fmtValue(v: unknown): string {
  if (typeof v === 'string') return /\s/.test(v) ? JSON.stringify(v) : v;
  return JSON.stringify(v);
}

/** Formats one pino JSON line for a human. Exported for tests. */
export function prettyLine(json: string, color: boolean): string {
  let o: Record<string, unknown>;
  try { o = JSON.parse(json) as Record<string, unknown>; } catch { return json; }
  const level = typeof o.level === 'number' ? o.level : 30;
  const time = new Date(typeof o.time === 'number' ? o.time : Date.now()).toISOString().slice(11, 23);
  const tag = (LEVELS[level] ?? String(level)).padEnd(5);
  const extra = Object.entries(o).filter(([k]) => !HIDDEN.has(k)).map(([k, v]) => `${k}=${fmtValue(v)}`).join(' ');
  const head = color ? `\x1b[${COLORS[level] ?? '0'}m${tag}\x1b[0m` : tag;
  return `${time} ${head} ${String(o.msg ?? '')}${extra ? `  ${color ? '\x1b[90m' : ''}${extra}${color ? '\x1b[0m' : ''}` : ''}\n`;
}

function prettyStream(out: NodeJS.WriteStream): DestinationStream {
  const color = out.hasColors?.() === true && !process.env.NO_COLOR;
  return { write: (line: string) => { out.write(prettyLine(line, color)); } };
}

export interface LogOptions { readonly level?: string; readonly pretty?: boolean; readonly name?: string }

export function createLogger(opts: LogOptions = {}): Logger {
  const pretty = opts.pretty ?? process.stdout.isTTY === true;
  const base = { level: opts.level ?? process.env.SHOAL_LOG_LEVEL ?? 'info', base: { pid: process.pid, ...(opts.name ? { name: opts.name } : {}) } };
  return pretty ? pino(base, prettyStream(process.stdout)) : pino(base, pino.destination({ fd: 1, sync: true }));
}

/** The primary's logger: named after the cluster, debug with --verbose. */
export function clusterLogger(opts: { readonly name: string; readonly verbose: boolean }): Logger {
  return createLogger({ name: opts.name, ...(opts.verbose ? { level: 'debug' } : {}) });
}

export type { Logger };
