/** sd_listen_fds: the passed socket is taken only when meant for this process, and the variables never reach the workers. */
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Listener } from '../../runtime/primary/listener.js';
import { closeExtra, takeActivation } from '../../runtime/primary/socket-activation.js';

describe('socket activation', () => {
  it('takes fd 3 when LISTEN_PID is this process, and unsets the variables', () => {
    const env: NodeJS.ProcessEnv = { LISTEN_PID: '42', LISTEN_FDS: '1', LISTEN_FDNAMES: 'http', HOME: '/root' };
    expect(takeActivation(env, 42)).toEqual({ fd: 3, count: 1, name: 'http' });
    expect(env).toEqual({ HOME: '/root' });
  });

  it.each([
    ['another pid', { LISTEN_PID: '41', LISTEN_FDS: '1' }],
    ['no socket', { LISTEN_PID: '42', LISTEN_FDS: '0' }],
    ['a bad count', { LISTEN_PID: '42', LISTEN_FDS: 'x' }],
    ['no LISTEN_PID', { LISTEN_FDS: '1' }],
    ['nothing', {}],
  ] as const)('ignores %s (and still unsets)', (_what, given) => {
    const env: NodeJS.ProcessEnv = { ...given };
    expect(takeActivation(env, 42)).toBeUndefined();
    expect(env).toEqual({});
  });

  it('serves the first of several, naming it', () => {
    expect(takeActivation({ LISTEN_PID: '7', LISTEN_FDS: '2', LISTEN_FDNAMES: 'web:other' }, 7)).toEqual({ fd: 3, count: 2, name: 'web' });
  });

  it('closes the sockets passed after the served one, and reports those it closed', () => {
    const asked: number[] = [];
    const fds = {
      // 5 is not open; 6 is open but no socket (a LISTEN_FDS larger than what was passed reaches node's own descriptors).
      isSocket: (fd: number): boolean => { if (fd === 5) throw Object.assign(new Error('EBADF'), { code: 'EBADF' }); return fd !== 6; },
      close: (fd: number): void => { asked.push(fd); },
    };
    expect(closeExtra({ fd: 3, count: 5, name: undefined }, fds)).toEqual([4, 7]);
    expect(asked).toEqual([4, 7]);
    expect(closeExtra({ fd: 3, count: 1, name: undefined }, fds)).toEqual([]);
  });
});

// A TCP socket passed the way systemd passes it is served in test/integration/deploy-systemd.test.ts
// (libuv refuses a second handle on a descriptor this process already watches, so not here).
describe('serving a passed descriptor', () => {
  it('a descriptor that is not a TCP socket is refused with SHOAL_ERR_ACTIVATION', () => {
    const fd = fs.openSync('/dev/null', 'r');
    try {
      expect(() => Listener.fromFd(fd)).toThrow(expect.objectContaining({ code: 'SHOAL_ERR_ACTIVATION' }));
    } finally { fs.closeSync(fd); }
  });

});
