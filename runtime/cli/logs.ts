/**
 * `shoal logs [-n LINES] [-f] [--worker ID] [--json] [--name N]`: the last
 * lines the primary keeps of its workers' stdout and stderr, each tagged
 * with its time, worker and stream; `-f` then prints new ones as they come,
 * until Ctrl-C (exit 130) or the cluster stops (exit 1).
 */
import { ShoalError } from '../errors.js';
import { controlRequest } from '../control/client.js';
import type { ControlEvent, ControlRequest } from '../control/protocol.js';
import type { Parsed } from './args.js';
import { untilInterrupted } from './interrupt.js';
import { ControlFailure } from './report.js';

/** Lines printed when -n is not given. */
export const DEFAULT_LOG_LINES = 100;

const out = (s: string): void => { process.stdout.write(s); };

/** `12:00:01.123 w3 stderr | the line`, the time in UTC as in the primary's own log. Exported for tests. */
export function formatLogLine(e: ControlEvent): string {
  const time = new Date(Number(e.t)).toISOString().slice(11, 23);
  return `${time} w${String(e.worker)} ${String(e.stream)} | ${String(e.line)}${e.cut === true ? ' [line cut]' : ''}\n`;
}

function requestOf(p: Parsed): Extract<ControlRequest, { cmd: 'logs' }> {
  const n = p.flags.lines;
  if (n !== undefined && (typeof n !== 'string' || !/^\d+$/.test(n))) throw new ShoalError('SHOAL_ERR_BAD_VALUE', '-n/--lines', String(n), 'a whole number of lines, e.g. -n 50');
  const w = p.flags.worker;
  // `w3` as the output tags it, or `3` as status shows it.
  const m = typeof w === 'string' ? /^w?(\d+)$/.exec(w) : null;
  if (w !== undefined && (!m || Number(m[1]) < 1)) throw new ShoalError('SHOAL_ERR_BAD_VALUE', '--worker', String(w), "a worker id as 'shoal status' shows it, e.g. 3");
  return {
    cmd: 'logs',
    lines: n === undefined ? DEFAULT_LOG_LINES : Number(n),
    ...(m ? { worker: Number(m[1]) } : {}),
    ...(p.flags.follow === true ? { follow: true } : {}),
  };
}

export async function logsCommand(p: Parsed, env = process.env): Promise<number> {
  const json = p.flags.json === true;
  const name = typeof p.flags.name === 'string' ? p.flags.name : undefined;
  const req = requestOf(p);
  const onEvent = (e: ControlEvent): void => {
    if (json) out(`${JSON.stringify(e)}\n`);
    else if (e.event === 'log') out(formatLogLine(e));
    // For the person watching: stdout stays the app's lines alone.
    else if (e.event === 'dropped') process.stderr.write(`shoal: warning: ${String(e.lines)} lines dropped here: this output did not keep up with the cluster's\n`);
  };
  const run = async (signal?: AbortSignal): Promise<number> => {
    const reply = await controlRequest(name, req, onEvent, env, signal);
    if (!reply.ok) throw new ControlFailure(reply);
    if (json) out(`${JSON.stringify(reply)}\n`);
    return 0;
  };
  // Without -f, a signal kills the command as it kills any other.
  return req.follow ? untilInterrupted(run) : run();
}
