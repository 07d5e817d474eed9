/**
 * Redis reached through ioredis options given in shoal.config.json
 * (redisOptions): TLS with a CA (rediss://, a TLS-only redis-server), and
 * Sentinel (redis-server --sentinel naming the master).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, expect, it } from 'vitest';
import { clusterStatus, FIXTURES, runCli, startCluster, type Cluster } from '../helpers/cluster.js';
import { getJson } from '../helpers/http.js';
import { startRedis, startRedisSentinel } from '../helpers/redis.js';

const TLS = path.join(FIXTURES, 'tls');
/** What each test started, stopped after it in reverse order. */
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Starts one host (one worker) of the session fixture in a folder whose shoal.config.json is `config`. */
async function hostWith(config: Record<string, unknown>): Promise<Cluster> {
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'shoal-redis-options-'));
  cleanups.push(() => fs.rmSync(cwd, { recursive: true, force: true }));
  fs.writeFileSync(path.join(cwd, 'shoal.config.json'), JSON.stringify(config));
  const host = await startCluster(path.join(FIXTURES, 'session-fastify.mjs'), { workers: 1, cwd });
  cleanups.push(() => host.stop('SIGKILL'));
  return host;
}

/** Writes who=ann on `host`; returns the session id. */
async function writeAnn(host: Cluster): Promise<string> {
  const r = await getJson(host.port, '/set?k=who&v=ann');
  expect(r.status).toBe(200);
  return [r.headers['set-cookie'] ?? []].flat()[0]!.split('=')[1]!.split('.')[0]!;
}

async function expectAnnIn(redis: Redis, id: string): Promise<void> {
  try {
    expect(await redis.hget(`shoal:s:${id}`, 'a:who')).toMatch(/\|"ann"$/);
  } finally { redis.disconnect(); }
}

const tlsRedis = async (): Promise<Awaited<ReturnType<typeof startRedis>>> => {
  const redis = await startRedis({ tls: { cert: path.join(TLS, 'cert.pem'), key: path.join(TLS, 'key.pem') } });
  cleanups.push(() => redis.kill());
  return redis;
};

it('sessions reach a TLS-only redis through rediss:// with the CA from shoal.config.json', async () => {
  const redis = await tlsRedis();
  const ca = fs.readFileSync(path.join(TLS, 'cert.pem'), 'utf8');
  const host = await hostWith({ redis: redis.url, redisOptions: { tls: { ca } } });
  const id = await writeAnn(host);
  expect(((await clusterStatus(host)).primary.redis as { status: string }).status).toBe('ready');
  await expectAnnIn(new Redis(redis.url, { tls: { ca } }), id);
});

it('a certificate the CA does not vouch for: redis shows down in status with the TLS error, the host still serves', async () => {
  const redis = await tlsRedis();
  // No CA given: the self-signed certificate is refused.
  const host = await hostWith({ redis: redis.url });
  await writeAnn(host);
  const st = await runCli(['status', '--json', '--name', `test-${host.port}`]);
  const redisState = (JSON.parse(st.stdout) as { primary: { redis: { status: string; lastError: string } } }).primary.redis;
  expect(redisState.status).toBe('down');
  expect(redisState.lastError).toMatch(/self[- ]signed|certificate/i);
});

it('sessions go to the master that the sentinel names (redisOptions in shoal.config.json)', async () => {
  const sentinel = await startRedisSentinel();
  cleanups.push(() => sentinel.stop());
  // The URL's host and port are not used with sentinels: ioredis asks the sentinel for the master.
  const host = await hostWith({
    redis: 'redis://127.0.0.1:1',
    redisOptions: { sentinels: [{ host: '127.0.0.1', port: sentinel.port }], name: sentinel.masterName },
  });
  const id = await writeAnn(host);
  expect(((await clusterStatus(host)).primary.redis as { status: string }).status).toBe('ready');
  await expectAnnIn(new Redis(sentinel.master.port, '127.0.0.1'), id);
});
