/**
 * Why a starting worker failed, found out early and said plainly: an app
 * that listens on a port of its own rather than the served one, one that
 * never listens (or never calls ready()), and the uncaught error a worker
 * printed as it died.
 */
import type { Logger } from 'pino';
import { ShoalError } from '../errors.js';
import type { ShoalOptions } from '../options.js';
import type { WorkerProcess } from './worker-process.js';

/**
 * A worker that listened on other fixed ports and not on the served one is
 * given this long before its start counts as failed (the app listens on a
 * port of its own: waiting for the whole ready timeout tells nothing more).
 */
export const PORT_MISMATCH_MS = 3_000;

type StartOptions = Pick<ShoalOptions, 'port' | 'waitReady' | 'readyTimeoutMs'>;

/**
 * The app listened on another fixed port. If it does not listen on the
 * served one soon, it was written for that other port: say so (both ports,
 * and the fix) within a few seconds rather than at the ready timeout.
 */
export function watchOtherPort(w: WorkerProcess, port: string, opts: StartOptions, log: Logger): void {
  w.otherPorts.push(port);
  if (w.otherPorts.length > 1 || w.status !== 'starting' || opts.port === undefined) return;
  const served = opts.port;
  setTimeout(() => {
    if (w.status !== 'starting') return;
    const err = new ShoalError('SHOAL_ERR_PORT_MISMATCH', w.otherPorts.join(', '), String(served));
    w.fatal = { message: err.message };
    w.fatalError = err;
    log.error({ worker: w.id, code: err.code }, err.message);
    w.child.kill('SIGKILL');
  }, PORT_MISMATCH_MS).unref();
}

/** The ready timeout passed: a worker still starting is killed, with the reason it gets. */
export function readyTimedOut(w: WorkerProcess, opts: StartOptions, log: Logger): void {
  if (w.status !== 'starting') return;
  const err = w.otherPorts.length > 0 || !opts.waitReady
    ? new ShoalError('SHOAL_ERR_NOT_LISTENING', String(opts.port ?? 'it asks for'), w.otherPorts.length ? ` (it listened on ${w.otherPorts.join(', ')})` : ` within ${opts.readyTimeoutMs} ms`)
    : new ShoalError('SHOAL_ERR_READY_TIMEOUT', String(opts.readyTimeoutMs));
  w.fatal = { message: err.message };
  log.error({ worker: w.id, code: err.code }, err.message);
  w.child.kill('SIGKILL');
}

/**
 * The error node printed for an uncaught exception (`TypeError: x is not a
 * function`), for a worker whose own report of it was lost when it died
 * before its IPC write went out.
 */
export function uncaughtLine(stderr: string): string | undefined {
  const lines = stderr.split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    const m = /^(?:Uncaught )?((?:[A-Z][A-Za-z]*)?(?:Error|Exception)(?: \[[A-Z_]+\])?): (.+)$/.exec(lines[i]!.trim());
    if (m) return m[2];
  }
  return undefined;
}
