/**
 * `shoal start`: run the primary in this process until it stops. Signals:
 * SIGTERM/SIGINT stop gracefully (exit 0), after the shutdown delay if one
 * is set; a second one during the delay ends the delay, otherwise it stops at
 * once and the exit code is 128 + that signal. SIGHUP reloads.
 */
import os from 'node:os';
import { runtimeDir, socketPath } from '../control/paths.js';
import { probe } from '../control/server.js';
import { clusterLogger } from '../log.js';
import type { ShoalOptions } from '../options.js';
import { runPrimary } from '../primary/primary.js';

const STOP_SIGNALS = ['SIGTERM', 'SIGINT'] as const;

/**
 * The options with a name no running cluster has: a name the user did not
 * give explicitly (the config file's, or the entry's folder) that is taken
 * gets the port appended, so that several hosts of one app start side by
 * side from one folder. An explicit one is kept (the start then fails).
 */
async function withFreeName(opts: ShoalOptions): Promise<{ opts: ShoalOptions; taken?: string }> {
  if (opts.nameGiven || !(await probe(socketPath(runtimeDir(), opts.name)))) return { opts };
  const name = `${opts.name}-${opts.port === 0 ? process.pid : opts.port}`;
  return { opts: Object.freeze({ ...opts, name }), taken: opts.name };
}

export async function start(given: ShoalOptions): Promise<number> {
  const { opts, taken } = await withFreeName(given);
  const log = clusterLogger(opts);
  if (taken !== undefined) log.warn({ taken }, `a running cluster is named '${taken}': this one is '${opts.name}' (pick one with --name)`);
  const primary = await runPrimary(opts, log);
  let received = 0;
  const onSignal = (sig: NodeJS.Signals): void => {
    received++;
    if (received === 1) {
      void primary.stop(sig);
      return;
    }
    // During the shutdown delay a second signal only ends the delay: the graceful stop follows.
    if (primary.skipDelay(sig)) return;
    log.warn({ signal: sig }, 'second signal: stopping now');
    for (const w of primary.supervisor.workers) w.child.kill('SIGKILL');
    process.exitCode = 128 + (os.constants.signals[sig] ?? 0);
    // The entry's own handler: the process must end now, whatever is still open.
    process.exit();
  };
  // SIGHUP: rolling reload, as nginx and most daemons do. Its end (done or failed) is logged by
  // Operations.reload, as for `shoal reload`; nothing is left to do with the outcome here.
  const onHup = (): void => { primary.operations.reload(1, () => {}).catch(() => {}); };
  for (const s of STOP_SIGNALS) process.on(s, onSignal);
  process.on('SIGHUP', onHup);
  const code = await primary.done;
  for (const s of STOP_SIGNALS) process.off(s, onSignal);
  process.off('SIGHUP', onHup);
  return code;
}
