/**
 * How the CLI reports a failure, whatever raised it (bad input, no cluster
 * running, a failure reply from the primary): one line `shoal: <message>` on
 * stderr; with --json, one line {"ok":false,"error":{"code","message"}} on
 * stdout instead, so a script reads one shape for every outcome. A failure
 * of the app's code (a reload or scale whose new worker failed to start)
 * adds where it failed (see control/app-site.ts). The exit
 * code is 2 for usage errors (wherever they were found: `scale 0` is refused
 * by the primary), 1 for the rest.
 */
import { ERRORS, isShoalError, type AppSite } from '../errors.js';
import type { ControlReply } from '../control/protocol.js';

/** A failure reply from a primary, thrown so that it is reported as the CLI's own errors are. */
export class ControlFailure extends Error {
  readonly code: string;
  readonly app: AppSite | undefined;
  constructor(reply: Extract<ControlReply, { ok: false }>) {
    super(reply.error);
    this.name = 'ControlFailure';
    this.code = reply.code;
    this.app = reply.app;
  }
}

/**
 * Where the app's code failed, under the error line: its first stack frame
 * (or file:line), the source line with node's caret, and where the rest is.
 */
export function formatAppSite(app: AppSite): string {
  const where = app.frame ?? `at ${app.file}:${app.line}${app.column === undefined ? '' : `:${app.column}`}`;
  const source = (app.source ?? []).map((l) => `      ${l}\n`).join('');
  return `  ${where}\n${source}  the app's full output is where 'shoal start' runs (the primary's terminal or log)\n`;
}

/** The registry's verdict, also for a code that came over the wire (an unknown one is not usage). */
const isUsage = (code: string): boolean => Object.hasOwn(ERRORS, code) && ERRORS[code as keyof typeof ERRORS].usage;

/** Prints `e` and returns the exit code. */
export function reportError(e: unknown, o: { json: boolean; verbose: boolean }): number {
  const known = isShoalError(e) || e instanceof ControlFailure;
  const code = known ? e.code : 'SHOAL_ERR_INTERNAL';
  const message = e instanceof Error ? e.message : String(e);
  const app = known ? e.app : undefined;
  if (o.json) process.stdout.write(`${JSON.stringify({ ok: false, error: { code, message, ...(app ? { app } : {}) } })}\n`);
  else process.stderr.write(`shoal: ${message}\n${app ? formatAppSite(app) : ''}`);
  // A failure reply's stack would be this process's, which says nothing about the primary's failure.
  if (o.verbose && e instanceof Error && !(e instanceof ControlFailure) && e.stack) process.stderr.write(`${e.stack}\n`);
  else if (!known && !o.json) process.stderr.write('(run with --verbose for the stack trace)\n');
  return isUsage(code) ? 2 : 1;
}
