/**
 * `shoal status --watch`: the status again every WATCH_INTERVAL_MS until
 * Ctrl-C (exit 130). On a terminal the table is redrawn in place (cursor
 * home, each line cleared to its end, the rest of the screen cleared), under
 * a line with the interval and the time; off one, each table follows the
 * last after a blank line, so a file or a pipe gets one per interval; with
 * --json, one reply per line. If the cluster stops, it says so and exits 1.
 */
import { isShoalError, ShoalError } from '../errors.js';
import { controlRequest, resolveSocket } from '../control/client.js';
import type { ControlReply, ControlRequest } from '../control/protocol.js';
import { untilInterrupted } from './interrupt.js';
import { ControlFailure } from './report.js';

/** How often the status is asked for and drawn again. */
export const WATCH_INTERVAL_MS = 1_000;

const CLEAR_SCREEN = '\x1b[H\x1b[2J';
const HOME = '\x1b[H';
const CLEAR_LINE_END = '\x1b[K';
const CLEAR_BELOW = '\x1b[J';

export interface WatchOptions {
  readonly json: boolean;
  readonly tty: boolean;
  readonly intervalMs: number;
  readonly env: NodeJS.ProcessEnv;
}

/** The failures that mean the cluster went away since the last status. */
const gone = (e: unknown): boolean => (isShoalError(e) && (e.code === 'SHOAL_ERR_NO_CLUSTER' || e.code === 'SHOAL_ERR_CONTROL_LOST'))
  || ['ECONNRESET', 'EPIPE'].includes((e as NodeJS.ErrnoException).code ?? '');

/** Waits `ms`, or rejects with the signal's reason as soon as it is aborted. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => { signal.removeEventListener('abort', stop); resolve(); }, ms);
    const stop = (): void => { clearTimeout(t); reject(signal.reason); };
    signal.addEventListener('abort', stop, { once: true });
  });
}

function frame(text: string, first: boolean, o: WatchOptions, title: string): string {
  if (!o.tty) return first ? text : `\n${text}`;
  const time = new Date().toTimeString().slice(0, 8);
  const lines = [`${title}  ${time}`, '', ...text.replace(/\n$/, '').split('\n')];
  return `${first ? CLEAR_SCREEN : HOME}${lines.map((l) => `${l}${CLEAR_LINE_END}`).join('\n')}\n${CLEAR_BELOW}`;
}

export async function watchStatus(name: string | undefined, req: ControlRequest, render: (reply: ControlReply) => string, o: WatchOptions): Promise<number> {
  // The cluster is found once: if it stops, another one started meanwhile is not shown in its place.
  const target = await resolveSocket(name, o.env);
  const title = `every ${o.intervalMs / 1000} s: shoal status --name ${target.name} (Ctrl-C to end)`;
  return untilInterrupted(async (signal) => {
    for (let n = 0; ; n++) {
      const t0 = Date.now();
      let reply: ControlReply;
      try {
        reply = await controlRequest(target.name, req, () => {}, o.env, signal);
      } catch (e) {
        if (n > 0 && gone(e)) throw new ShoalError('SHOAL_ERR_CLUSTER_STOPPED', target.name);
        throw e;
      }
      if (!reply.ok) throw new ControlFailure(reply);
      process.stdout.write(o.json ? `${JSON.stringify(reply)}\n` : frame(render(reply), n === 0, o, title));
      await pause(Math.max(0, t0 + o.intervalMs - Date.now()), signal);
    }
  });
}
