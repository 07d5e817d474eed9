/**
 * The `logs` control command in the primary: the last lines kept, oldest
 * first, as { event: 'log' } progress lines; with `follow`, then every new
 * line until the client goes away or the cluster stops.
 *
 * A follower is fed as fast as it reads, never faster: lines wait in a
 * queue of its own, and past `maxQueuedBytes` (the queue and the socket's
 * buffer together) new ones are dropped for it, with one { event:
 * 'dropped', lines } in their place, so a follower that reads slowly (or
 * not at all) costs the primary a bounded amount of memory.
 */
import { ShoalError } from '../errors.js';
import type { ControlEvent } from '../control/protocol.js';
import type { ControlChannel } from '../control/server.js';
import type { LogEntry, LogStore } from './buffer.js';

export interface LogsRequest { readonly lines: number; readonly worker?: number; readonly follow?: boolean }

export const logEvent = (e: LogEntry): ControlEvent =>
  ({ event: 'log', worker: e.worker, stream: e.stream, t: e.t, line: e.line, ...(e.cut ? { cut: true } : {}) });

/** One drop marker stands for every line dropped in a row at its place. */
type Queued = LogEntry | { dropped: number };

function unknownWorker(store: LogStore, worker: number): ShoalError {
  const { running, exited } = store.workers();
  const known = [running.length > 0 ? `${running.join(', ')} running` : '', exited.length > 0 ? `${exited.join(', ')} exited` : ''].filter(Boolean).join('; ');
  return new ShoalError('SHOAL_ERR_UNKNOWN_WORKER', String(worker), known || 'none');
}

/** Sends `items` in order, waiting whenever the client's buffer is full; false once the client is gone. */
async function sendAll(channel: ControlChannel, items: Iterable<Queued>): Promise<boolean> {
  for (const it of items) {
    if (channel.gone.aborted) return false;
    const e = 'dropped' in it ? { event: 'dropped', lines: it.dropped } : logEvent(it);
    if (!channel.send(e)) await channel.drained();
  }
  return !channel.gone.aborted;
}

export async function serveLogs(store: LogStore, req: LogsRequest, channel: ControlChannel, cluster: string, maxQueuedBytes: number): Promise<Record<string, unknown>> {
  if (req.worker !== undefined && !store.has(req.worker)) throw unknownWorker(store, req.worker);
  const backlog = store.tail(req.lines, req.worker);
  if (!req.follow) {
    await sendAll(channel, backlog);
    return { lines: backlog.length, buffer: store.stats() };
  }
  const queue: Queued[] = [];
  let queuedBytes = 0;
  let stopped = false;
  let wake = (): void => {};
  // Listening starts in the same turn as the backlog was read: no line falls between the two.
  const unlisten = store.listen({
    line(e) {
      if (queuedBytes + channel.pendingBytes <= maxQueuedBytes) {
        queue.push(e);
        queuedBytes += e.line.length;
      } else {
        const last = queue.at(-1);
        if (last && 'dropped' in last) last.dropped++;
        else queue.push({ dropped: 1 });
      }
      wake();
    },
    end() { stopped = true; wake(); },
  }, req.worker);
  const onGone = (): void => wake();
  channel.gone.addEventListener('abort', onGone);
  try {
    if (!(await sendAll(channel, backlog))) return { lines: 0 };
    while (!channel.gone.aborted) {
      if (queue.length === 0) {
        if (stopped) throw new ShoalError('SHOAL_ERR_CLUSTER_STOPPED', cluster);
        await new Promise<void>((resolve) => { wake = resolve; });
        continue;
      }
      const batch = queue.splice(0);
      queuedBytes = 0;
      await sendAll(channel, batch);
    }
    return { lines: 0 };
  } finally {
    unlisten();
    channel.gone.removeEventListener('abort', onGone);
  }
}
