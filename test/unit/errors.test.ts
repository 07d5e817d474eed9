/** Pins the public error codes: renaming or dropping one must be a deliberate, visible change. */
import { describe, expect, it } from 'vitest';
import { ERRORS, ShoalError } from '../../runtime/errors.js';

describe('error registry', () => {
  it('has exactly these stable codes', () => {
    expect(Object.keys(ERRORS).sort()).toEqual([
      'SHOAL_ERR_ACTIVATION', 'SHOAL_ERR_ADMIN_LISTEN', 'SHOAL_ERR_ADMIN_NO_TOKEN', 'SHOAL_ERR_ADMIN_PORT_IN_USE',
      'SHOAL_ERR_AGENT_LISTEN', 'SHOAL_ERR_AMBIGUOUS_CLUSTER', 'SHOAL_ERR_APP_NAME', 'SHOAL_ERR_BAD_CONFIG', 'SHOAL_ERR_BAD_VALUE',
      'SHOAL_ERR_BUSY', 'SHOAL_ERR_CLOCK_DRIFT', 'SHOAL_ERR_CLUSTER_STOPPED', 'SHOAL_ERR_CONFIG_NOT_FOUND', 'SHOAL_ERR_CONTROL_BAD_REQUEST', 'SHOAL_ERR_CONTROL_LOST',
      'SHOAL_ERR_CRASH_LOOP', 'SHOAL_ERR_DIR_NOT_EMPTY', 'SHOAL_ERR_ENTRY_NOT_FOUND', 'SHOAL_ERR_ENTRY_UNREADABLE',
      'SHOAL_ERR_INSTALL_FAILED', 'SHOAL_ERR_INTERNAL', 'SHOAL_ERR_LISTEN', 'SHOAL_ERR_MISSING_DIR',
      'SHOAL_ERR_MISSING_ENTRY', 'SHOAL_ERR_MISSING_VALUE', 'SHOAL_ERR_NAME_IN_USE', 'SHOAL_ERR_NOT_LISTENING',
      'SHOAL_ERR_NO_CLUSTER', 'SHOAL_ERR_NO_REDIS', 'SHOAL_ERR_PORT_DENIED', 'SHOAL_ERR_PORT_IN_USE', 'SHOAL_ERR_PORT_MISMATCH', 'SHOAL_ERR_READY_TIMEOUT',
      'SHOAL_ERR_RELOAD_FAILED', 'SHOAL_ERR_SESSION_OPTIONS', 'SHOAL_ERR_SESSION_SECRET', 'SHOAL_ERR_SESSION_TOO_LARGE',
      'SHOAL_ERR_SESSION_UNREPLICATED', 'SHOAL_ERR_SESSION_VALUE', 'SHOAL_ERR_UNKNOWN_BALANCER', 'SHOAL_ERR_UNKNOWN_COMMAND',
      'SHOAL_ERR_UNKNOWN_FLAG', 'SHOAL_ERR_UNKNOWN_WORKER', 'SHOAL_ERR_WORKER_STARTUP',
    ]);
  });

  it.each([
    ['SHOAL_ERR_UNKNOWN_FLAG', true], ['SHOAL_ERR_PORT_IN_USE', true], ['SHOAL_ERR_ADMIN_NO_TOKEN', true], ['SHOAL_ERR_ADMIN_PORT_IN_USE', true], ['SHOAL_ERR_UNKNOWN_BALANCER', true],
    ['SHOAL_ERR_AGENT_LISTEN', true], ['SHOAL_ERR_ACTIVATION', false],
    ['SHOAL_ERR_WORKER_STARTUP', false], ['SHOAL_ERR_CRASH_LOOP', false], ['SHOAL_ERR_LISTEN', false],
  ] as const)('%s is a usage error: %s', (code, usage) => {
    expect(new ShoalError(code, 'x', 'y', 'z').usage).toBe(usage);
  });

  it('carries its code and a message built from its arguments', () => {
    const e = new ShoalError('SHOAL_ERR_BAD_VALUE', '--workers', '0', 'a whole number');
    expect(e).toBeInstanceOf(Error);
    expect(e.code).toBe('SHOAL_ERR_BAD_VALUE');
    expect(e.message).toBe("invalid value '0' for --workers: expected a whole number");
  });
});
