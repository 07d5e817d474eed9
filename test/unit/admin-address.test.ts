/** --admin [HOST:]PORT, and the rule that a host reachable from the network needs a token. */
import { describe, expect, it } from 'vitest';
import { adminUrl, checkAdmin, isLoopback, parseAdminAddress } from '../../runtime/admin/address.js';

describe('parseAdminAddress', () => {
  it.each([
    ['9090', '127.0.0.1', 9090], ['0', '127.0.0.1', 0], ['0.0.0.0:9090', '0.0.0.0', 9090], ['[::1]:9090', '::1', 9090],
    ['localhost:1', 'localhost', 1], ['admin.internal:80', 'admin.internal', 80],
  ])('%s', (v, host, port) => { expect(parseAdminAddress(v, '--admin')).toEqual({ host, port }); });

  it.each(['', 'abc', '70000', '::1:9090', '[::1]', 'host:', ':9090', '[nope]:1', '1.2.3.4:-1'])('refuses %j', (v) => {
    expect(() => parseAdminAddress(v, 'SHOAL_ADMIN')).toThrow(/for SHOAL_ADMIN: expected PORT or HOST:PORT/);
  });
});

describe('isLoopback and checkAdmin', () => {
  it.each([['127.0.0.1', true], ['127.9.9.9', true], ['::1', true], ['0:0:0:0:0:0:0:1', true], ['::ffff:127.0.0.1', true], ['localhost', true],
    ['0.0.0.0', false], ['::', false], ['10.1.2.3', false], ['myhost', false]])('%s: %s', (h, yes) => { expect(isLoopback(h as string)).toBe(yes); });

  it('a host off the loopback needs a token of 16+ characters, never shown', () => {
    expect(() => checkAdmin({ host: '0.0.0.0', port: 1 }, undefined)).toThrow(expect.objectContaining({ code: 'SHOAL_ERR_ADMIN_NO_TOKEN', usage: true }));
    expect(() => checkAdmin({ host: '0.0.0.0', port: 1 }, 'short-secret')).toThrow(/at least 16 characters/);
    expect(() => checkAdmin({ host: '0.0.0.0', port: 1 }, 'short-secret')).not.toThrow(/short-secret/);
    expect(() => checkAdmin({ host: '0.0.0.0', port: 1 }, 'x'.repeat(16))).not.toThrow();
    expect(() => checkAdmin({ host: '127.0.0.1', port: 1 }, undefined)).not.toThrow();
    expect(adminUrl('::1', 9090)).toBe('http://[::1]:9090');
  });
});
