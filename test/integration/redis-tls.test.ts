/**
 * Redis over TLS (rediss://), the CA given as an ioredis option in
 * shoal.config.json: a real redis-server speaking only TLS.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, expect, it } from 'vitest';
import { clusterStatus, FIXTURES, runCli, startCluster, type Cluster } from '../helpers/cluster.js';
import { getJson } from '../helpers/http.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';

const TLS = path.join(FIXTURES, 'tls');
let host: Cluster | undefined;
let redis: RedisServer | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await host?.stop('SIGKILL');
  await redis?.kill();
  host = undefined;
  redis = undefined;
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function appDir(config: Record<string, unknown>): string {
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'shoal-tls-app-'));
  dirs.push(cwd);
  fs.writeFileSync(path.join(cwd, 'shoal.config.json'), JSON.stringify(config));
  return cwd;
}

it('sessions reach a TLS-only redis through rediss:// with the CA from shoal.config.json', async () => {
  redis = await startRedis({ tls: { cert: path.join(TLS, 'cert.pem'), key: path.join(TLS, 'key.pem') } });
  const ca = fs.readFileSync(path.join(TLS, 'cert.pem'), 'utf8');
  host = await startCluster(path.join(FIXTURES, 'session-fastify.mjs'), { workers: 1, cwd: appDir({ redis: redis.url, redisOptions: { tls: { ca } } }) });
  const r = await getJson(host.port, '/set?k=who&v=ann');
  expect(r.status).toBe(200);
  expect(((await clusterStatus(host)).primary.redis as { status: string }).status).toBe('ready');
  const id = [r.headers['set-cookie'] ?? []].flat()[0]!.split('=')[1]!.split('.')[0]!;
  const c = new Redis(redis.url, { tls: { ca } });
  try {
    expect(await c.hget(`shoal:s:${id}`, 'a:who')).toMatch(/\|"ann"$/);
  } finally { c.disconnect(); }
});

it('a certificate the CA does not vouch for: redis shows down in status with the TLS error, the host still serves', async () => {
  redis = await startRedis({ tls: { cert: path.join(TLS, 'cert.pem'), key: path.join(TLS, 'key.pem') } });
  // No CA given: the self-signed certificate is refused.
  host = await startCluster(path.join(FIXTURES, 'session-fastify.mjs'), { workers: 1, cwd: appDir({ redis: redis.url }) });
  expect((await getJson(host.port, '/set?k=who&v=ann')).status).toBe(200);
  const st = await runCli(['status', '--json', '--name', `test-${host.port}`]);
  const redisState = (JSON.parse(st.stdout) as { primary: { redis: { status: string; lastError: string } } }).primary.redis;
  expect(redisState.status).toBe('down');
  expect(redisState.lastError).toMatch(/self[- ]signed|certificate/i);
});
