/** --admin [HOST:]PORT, and the rule that a host reachable from the network needs a token. */
import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { flagsFor, parseArgs } from '../../runtime/cli/args.js';
import { startOptions } from '../../runtime/cli/config.js';
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

describe('admin options from flags, environment and config file', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shoal-admin-opts-'));
  fs.writeFileSync(path.join(dir, 'app.js'), '');
  fs.writeFileSync(path.join(dir, 'shoal.config.json'), JSON.stringify({ admin: 9091, adminToken: 'f'.repeat(20), scrapeTimeout: 250 }));
  const opts = (argv: string[], env: NodeJS.ProcessEnv = {}) => startOptions(parseArgs(['start', 'app.js', ...argv], flagsFor), env, dir);

  it('the config file gives them; the environment wins over it, and flags over both', () => {
    expect(opts([])).toMatchObject({ admin: { host: '127.0.0.1', port: 9091 }, adminToken: 'f'.repeat(20), scrapeTimeoutMs: 250 });
    expect(opts([], { SHOAL_ADMIN: '0.0.0.0:9092', SHOAL_ADMIN_TOKEN: 'e'.repeat(16) })).toMatchObject({ admin: { host: '0.0.0.0', port: 9092 }, adminToken: 'e'.repeat(16) });
    expect(opts(['--admin', '9093', '--scrape-timeout', '100'], { SHOAL_ADMIN: '9092' })).toMatchObject({ admin: { port: 9093 }, scrapeTimeoutMs: 100 });
  });

  it('off by default', () => {
    const bare = fs.mkdtempSync(path.join(os.tmpdir(), 'shoal-admin-off-'));
    fs.writeFileSync(path.join(bare, 'app.js'), '');
    expect(startOptions(parseArgs(['start', 'app.js'], flagsFor), {}, bare)).toMatchObject({ admin: undefined, adminToken: undefined, scrapeTimeoutMs: 500 });
  });
});
