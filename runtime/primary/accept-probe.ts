/**
 * The start-up self-test of kernel accept. Pausing an acceptor relies on
 * behaviour node does not document: on a listening handle received over
 * IPC, readStop() stops libuv's accept watcher and readStart() resumes it
 * (libuv's uv_read_stop stops the same io watcher its accept path uses).
 * Before the cluster relies on it, the primary checks it on a throwaway
 * socket on 127.0.0.1, with a copy that went through a worker and back:
 *
 *   paused:  a client connects; after PROBE_QUIET_MS nothing is accepted
 *   resumed: that connection is accepted within PROBE_TIMEOUT_MS
 *
 * Any other outcome (an error code, an accept while paused, none after
 * resume) is a reason to fall back to the handoff.
 */
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { bindHandle, handleAddress, type TcpHandle } from './tcp-handle.js';

/** How long a paused acceptor must stay quiet with a connection waiting for it. */
export const PROBE_QUIET_MS = 30;
/** How long a resumed acceptor may take to accept the waiting connection. */
export const PROBE_TIMEOUT_MS = 2_000;

/** A fresh socket for the probe, bound (not listening) on loopback. */
export function probeSocket(): TcpHandle {
  return bindHandle('127.0.0.1', 0, 4);
}

/** Runs the test on `copy` (a received descriptor of a probeSocket()); resolves with the reason it failed, or undefined. */
export async function probePause(copy: TcpHandle): Promise<string | undefined> {
  const seen = { accepted: 0 };
  let client: net.Socket | undefined;
  let onAccept = (): void => {};
  copy.onconnection = (status, c) => { if (status === 0 && c) { seen.accepted++; c.close(); onAccept(); } };
  try {
    const port = handleAddress(copy)?.port;
    if (!port) return 'the probe socket has no address';
    const l = copy.listen(8);
    if (l !== 0) return `listen on a received handle failed (${l})`;
    const a = copy.readStart();
    const b = copy.readStop();
    if (a !== 0 || b !== 0) return `readStart/readStop on a listening handle answered ${a}/${b}`;
    const c = net.connect(port, '127.0.0.1');
    client = c;
    const connected = await new Promise<boolean>((resolve) => { c.once('connect', () => resolve(true)); c.once('error', () => resolve(false)); });
    if (!connected) return 'could not connect to the probe socket';
    await sleep(PROBE_QUIET_MS);
    if (seen.accepted !== 0) return 'a paused acceptor still accepted a connection';
    const r = copy.readStart();
    if (r !== 0) return `readStart after a pause answered ${r}`;
    const resumed = await Promise.race([
      new Promise<boolean>((resolve) => { onAccept = () => resolve(true); }),
      sleep(PROBE_TIMEOUT_MS, false, { ref: false }),
    ]);
    return resumed ? undefined : 'a resumed acceptor did not accept the waiting connection';
  } finally {
    client?.destroy();
    copy.onconnection = null;
    copy.close();
  }
}
