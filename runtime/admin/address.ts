/**
 * The admin server's address, `[HOST:]PORT` (an IPv6 host in brackets:
 * `[::1]:9090`), and the security rule that goes with it: the admin server
 * answers on the loopback interface unless a host is given, and a host
 * other than a loopback one needs a token (nothing about the cluster is
 * readable from the network by default).
 */
import net from 'node:net';
import { ShoalError } from '../errors.js';

export interface AdminAddress {
  readonly host: string;
  readonly port: number;
}

export const DEFAULT_ADMIN_HOST = '127.0.0.1';

/** Tokens shorter than this are refused: a bearer token is the only thing between the network and the cluster's figures. */
export const MIN_TOKEN_LENGTH = 16;

const EXPECTED = 'PORT or HOST:PORT, e.g. 9090, 127.0.0.1:9090 or [::1]:9090';

export function parseAdminAddress(v: string, source: string): AdminAddress {
  const m = /^(?:(\[[0-9a-fA-F:.]+\]|[^:[\]]+):)?(\d{1,5})$/.exec(v.trim());
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) throw new ShoalError('SHOAL_ERR_BAD_VALUE', source, v, EXPECTED);
  const host = m[1] === undefined ? DEFAULT_ADMIN_HOST : m[1].replace(/^\[(.*)\]$/, '$1');
  if (m[1]?.startsWith('[') && net.isIPv6(host) === false) throw new ShoalError('SHOAL_ERR_BAD_VALUE', source, v, EXPECTED);
  return { host, port };
}

const LOOPBACK = new net.BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/**
 * 127.0.0.0/8, ::1 (in any spelling, IPv4-mapped too) and the name
 * localhost: reachable from this machine only. Any other name counts as
 * reachable from the network (what it resolves to may change).
 */
export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  const family = net.isIP(host);
  return family !== 0 && LOOPBACK.check(host, family === 4 ? 'ipv4' : 'ipv6');
}

/** The checks start-up makes; the token's value never appears in an error. */
export function checkAdmin(address: AdminAddress, token: string | undefined): void {
  if (token !== undefined && token.length < MIN_TOKEN_LENGTH) {
    throw new ShoalError('SHOAL_ERR_BAD_VALUE', '--admin-token', '(not shown)', `a token of at least ${MIN_TOKEN_LENGTH} characters, e.g. from 'openssl rand -hex 32'`);
  }
  if (token === undefined && !isLoopback(address.host)) throw new ShoalError('SHOAL_ERR_ADMIN_NO_TOKEN', formatHostPort(address.host, address.port));
}

export const formatHostPort = (host: string, port: number): string => (net.isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`);

/** The URL status shows; never with the token. */
export const adminUrl = (host: string, port: number): string => `http://${formatHostPort(host, port)}`;
