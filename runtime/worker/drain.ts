/**
 * Retiring a worker without failing a request (DESIGN.md point 5). The
 * primary has already stopped routing here; from then on:
 *
 *  1. the worker's descriptor of the shared socket (kernel accept) closes,
 *     so it takes nothing more from the kernel queue; a handoff still
 *     arriving is refused (the primary gives it to another);
 *  2. every response carries `Connection: close`, in-flight ones included
 *     when their headers are not sent yet, so each keep-alive connection
 *     closes cleanly after its next response;
 *  3. idle keep-alive connections are NOT closed now: closing a socket while
 *     the client may be sending on it races (the client gets a reset). Each
 *     one closes after its next response, or when the app's own
 *     keepAliveTimeout ends it — the rule every Node server already has;
 *  4. once no request is in flight, the onShutdown hooks run (the app closes
 *     what we cannot see: WebSockets, database pools);
 *  5. once every connection is gone, the servers close and the worker exits.
 *
 * The whole drain is bounded by the stop timeout; past it the worker exits
 * with whatever is left (and the primary kills it if it cannot).
 */
import type { Acceptor } from './acceptor.js';
import type { Intake } from './intake.js';
import type { WorkerState } from './state.js';

export async function drain(state: WorkerState, intake: Intake, acceptor: Acceptor, timeoutMs: number): Promise<void> {
  state.draining = true;
  acceptor.stop();
  intake.markDraining();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'timeout'>((resolve) => { timer = setTimeout(() => resolve('timeout'), timeoutMs); });
  const within = <T>(p: Promise<T>): Promise<T | 'timeout'> => Promise.race([p, deadline]);

  let outcome: unknown = await within(intake.until(() => intake.inflight === 0));
  if (outcome !== 'timeout') {
    const hooks = state.shutdownHooks.splice(0).map(async (fn) => { await fn(); });
    outcome = await within(Promise.allSettled(hooks));
    if (outcome !== 'timeout') outcome = await within(intake.until(() => intake.connections === 0));
  }
  clearTimeout(timer);
  for (const s of state.servers.slice()) {
    s.close();
    // Past the deadline, what is still open will not finish in time.
    if (outcome === 'timeout') (s as { closeAllConnections?: () => void }).closeAllConnections?.();
  }
  intake.report(0);
  // Let the servers' 'close' listeners (the app's own clean-up) run before the worker exits.
  await new Promise<void>((resolve) => setImmediate(resolve));
}
