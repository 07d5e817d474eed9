/**
 * Health checks on the workers, run by the primary on a timer:
 *
 * - Hung workers. A worker's every message (load reports go out at least
 *   every ~80 ms from an idle worker) proves its event loop turns. A ready
 *   worker silent for hangTimeoutMs is taken out of rotation at once: from
 *   then on it gets no new connection, and since it cannot acknowledge, at
 *   most the credit window's few connections ever reached it. If it speaks
 *   again it returns to rotation; silent hangGraceMs longer, it is killed
 *   (its unacknowledged connections go to other workers, its in-flight
 *   requests are lost) and the supervisor starts a replacement.
 * - Memory. A worker whose resident memory exceeds maxMemoryBytes is
 *   replaced gracefully: its replacement starts first, then it drains.
 */
import type { Logger } from 'pino';
import type { ShoalOptions } from '../options.js';
import type { Dispatcher } from './dispatcher.js';
import type { Supervisor } from './supervisor.js';

/** How often the checks run. */
export const HEALTH_CHECK_MS = 250;

export function startHealthChecks(opts: ShoalOptions, supervisor: Supervisor, dispatcher: Dispatcher, log: Logger): () => void {
  const check = (): void => {
    const now = Date.now();
    for (const slot of supervisor.slots) {
      const w = slot.worker;
      if (!w || w.status !== 'ready') continue;
      const silent = now - w.lastHeard;
      if (w.hungSince === undefined && silent >= opts.hangTimeoutMs) {
        w.hungSince = now;
        dispatcher.removeWorker(w);
        log.warn({ worker: w.id, workerPid: w.pid, silentMs: silent }, 'worker is not responding (event loop blocked?); no new connections go to it');
      } else if (w.hungSince !== undefined && silent < opts.hangTimeoutMs) {
        log.info({ worker: w.id, hungMs: now - w.hungSince }, 'worker is responding again; back in rotation');
        w.hungSince = undefined;
        // Back from a hang, it joins a running pool: it ramps up again (slow start).
        dispatcher.addWorker(w, true);
      } else if (w.hungSince !== undefined && now - w.hungSince >= opts.hangGraceMs) {
        log.error({ worker: w.id, workerPid: w.pid, silentMs: silent }, 'worker still not responding; killing it and starting a replacement');
        w.child.kill('SIGKILL');
      }
      if (opts.maxMemoryBytes > 0 && w.rss > opts.maxMemoryBytes && !w.replacing) {
        w.replacing = true;
        log.warn({ worker: w.id, rssBytes: w.rss, maxMemoryBytes: opts.maxMemoryBytes }, 'worker over the memory limit; replacing it gracefully');
        supervisor.replace(slot).then(
          ({ old }) => { supervisor.countRestart('memory'); return old ? supervisor.retire(old) : undefined; },
          (e: Error) => { w.replacing = false; log.error({ worker: w.id, err: e.message }, 'could not start a replacement for the worker over its memory limit'); },
        );
      }
    }
  };
  const timer = setInterval(check, HEALTH_CHECK_MS);
  timer.unref();
  return () => clearInterval(timer);
}
