/** sd_listen_fds: the passed socket is taken only when meant for this process, and the variables never reach the workers. */
import { describe, expect, it } from 'vitest';
import { takeActivation } from '../../runtime/primary/socket-activation.js';

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
});
