/**
 * systemd socket activation (sd_listen_fds(3)): systemd (or
 * systemd-socket-activate, or any launcher doing the same) binds the port,
 * keeps it open across restarts of the service, and passes it from fd 3:
 *
 *   LISTEN_PID=<this process>  LISTEN_FDS=<count>  [LISTEN_FDNAMES=a:b]
 *
 * The primary then serves that socket instead of binding, whatever port it
 * was given or the app asks for. While shoal restarts, the socket stays open
 * in systemd: new connections wait in the kernel's accept queue for the next
 * primary, none is refused.
 */
import fs from 'node:fs';

export const LISTEN_FDS_START = 3;

export interface Activation {
  /** The descriptor served (the first one passed). */
  readonly fd: number;
  /** How many were passed; only the first is served. */
  readonly count: number;
  readonly name: string | undefined;
}

/**
 * The passed socket, if the variables are meant for this process. They are
 * removed from `env` either way, as sd_listen_fds(unset=1) does: the
 * workers, and the app in them, must not take the socket for theirs.
 */
export function takeActivation(env: NodeJS.ProcessEnv = process.env, pid = process.pid): Activation | undefined {
  const listenPid = env.LISTEN_PID;
  const listenFds = env.LISTEN_FDS;
  const names = env.LISTEN_FDNAMES;
  delete env.LISTEN_PID;
  delete env.LISTEN_FDS;
  delete env.LISTEN_FDNAMES;
  if (listenPid === undefined || listenFds === undefined) return undefined;
  // Meant for another process (a wrapper that exec'd us without setting them for us).
  if (!/^\d+$/.test(listenPid) || Number(listenPid) !== pid) return undefined;
  if (!/^\d+$/.test(listenFds) || Number(listenFds) < 1) return undefined;
  return { fd: LISTEN_FDS_START, count: Number(listenFds), name: names?.split(':')[0] || undefined };
}

/** What closeExtra needs of the file system (fs by default; the unit tests pass their own). */
export interface Descriptors {
  isSocket(fd: number): boolean;
  close(fd: number): void;
}

const realDescriptors: Descriptors = {
  isSocket: (fd) => fs.fstatSync(fd).isSocket(),
  close: (fd) => fs.closeSync(fd),
};

/**
 * Closes the descriptors passed after the first (a unit with several
 * ListenStream= lines): shoal serves one port per cluster. Left open they
 * would be inherited by every worker and the app (systemd passes them
 * without close-on-exec), and a connection to such a port would sit in its
 * accept queue, never answered. Closed, it is refused at once (systemd-
 * socket-activate hands over its copies; under systemd the unit's own copy
 * stays open, and the warning the caller logs says which port is served).
 *
 * Only sockets are closed, and the caller runs this before it opens any of
 * its own: a LISTEN_FDS larger than what was passed must not close node's
 * own descriptors (its epoll and wake-up descriptors are not sockets).
 * Returns the descriptors closed.
 */
export function closeExtra(a: Activation, fds: Descriptors = realDescriptors): number[] {
  const closed: number[] = [];
  for (let fd = a.fd + 1; fd < a.fd + a.count; fd++) {
    try {
      if (!fds.isSocket(fd)) continue;
      fds.close(fd);
      closed.push(fd);
    } catch { /* not open: nothing to close */ }
  }
  return closed;
}
