/**
 * Redis reached through Sentinel, configured with ioredis options in
 * shoal.config.json (redisOptions: sentinels + name): real redis-server and
 * redis-server --sentinel processes.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, expect, it } from 'vitest';
import { clusterStatus, FIXTURES, startCluster, type Cluster } from '../helpers/cluster.js';
import { getJson } from '../helpers/http.js';
import { startRedisSentinel, type RedisSentinel } from '../helpers/redis.js';

let host: Cluster | undefined;
let sentinel: RedisSentinel | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await host?.stop('SIGKILL');
  await sentinel?.stop();
  host = undefined;
  sentinel = undefined;
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

it('sessions go to the master that the sentinel names (redisOptions in shoal.config.json)', async () => {
  sentinel = await startRedisSentinel();
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'shoal-sentinel-app-'));
  dirs.push(cwd);
  // The URL's host and port are not used with sentinels: ioredis asks the sentinel for the master.
  fs.writeFileSync(path.join(cwd, 'shoal.config.json'), JSON.stringify({
    redis: 'redis://127.0.0.1:1',
    redisOptions: { sentinels: [{ host: '127.0.0.1', port: sentinel.port }], name: sentinel.masterName },
  }));
  host = await startCluster(path.join(FIXTURES, 'session-fastify.mjs'), { workers: 1, cwd });
  const r = await getJson(host.port, '/set?k=who&v=ann');
  expect(r.status).toBe(200);
  expect(((await clusterStatus(host)).primary.redis as { status: string }).status).toBe('ready');
  const id = [r.headers['set-cookie'] ?? []].flat()[0]!.split('=')[1]!.split('.')[0]!;
  const m = new Redis(sentinel.master.port, '127.0.0.1');
  try {
    expect(await m.hget(`shoal:s:${id}`, 'a:who')).toMatch(/\|"ann"$/);
  } finally { m.disconnect(); }
});
