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

/** The primary's own log lines waiting for a slow reader of stdout, past which they are dropped. */
export const LOG_PENDING_MAX_BYTES = 1024 * 1024;

/**
 * JSON lines through process.stdout, bounded. Not pino.destination({ sync }):
 * on a pipe nobody reads, a synchronous write gets EAGAIN and sonic-boom
 * retries until the reader comes back, freezing the primary (and with it
 * every connection it balances) on its next log line. Through process.stdout
 * the lines queue in order with the app output that passes through the
 * primary (logs/passage.ts, same bound), and past the bound they are dropped
 * and counted, the count logged once the stream has room again. Files are
 * written synchronously (writableLength stays 0): nothing is ever dropped.
 */
function boundedStream(out: NodeJS.WriteStream, maxPendingBytes: number, name: string | undefined): DestinationStream {
  let dropped = 0;
  return {
    write: (line: string) => {
      if (out.writableLength < maxPendingBytes) { out.write(line); return; }
      if (dropped++ > 0) return;
      out.once('drain', () => {
        const note = { level: 40, time: Date.now(), pid: process.pid, ...(name ? { name } : {}), lines: dropped, msg: "log lines dropped: the primary's stdout was not read fast enough" };
        dropped = 0;
        out.write(`${JSON.stringify(note)}\n`);
      });
    },
  };
}

export interface LogOptions { readonly level?: string; readonly pretty?: boolean; readonly name?: string }

export function createLogger(opts: LogOptions = {}): Logger {
  const pretty = opts.pretty ?? process.stdout.isTTY === true;
  const base = { level: opts.level ?? process.env.SHOAL_LOG_LEVEL ?? 'info', base: { pid: process.pid, ...(opts.name ? { name: opts.name } : {}) } };
  return pino(base, pretty ? prettyStream(process.stdout) : boundedStream(process.stdout, LOG_PENDING_MAX_BYTES, opts.name));
}

/** The primary's logger: named after the cluster, debug with --verbose. */
export function clusterLogger(opts: { readonly name: string; readonly verbose: boolean }): Logger {
  return createLogger({ name: opts.name, ...(opts.verbose ? { level: 'debug' } : {}) });
}

export type { Logger };
