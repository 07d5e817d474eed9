/**
 * Hosts sharing sessions through a real Redis Cluster (three masters, each a
 * redis-server of its own): sessions spread over the nodes' slots, the log
 * on one of them, start-up reads every master.
 */
import { afterEach, describe, expect, it } from 'vitest';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { FIXTURES, startCluster, type Cluster } from '../helpers/cluster.js';
import { getJson, waitFor } from '../helpers/http.js';
import { startRedisCluster, type RedisCluster } from '../helpers/redis.js';

const app = path.join(FIXTURES, 'session-fastify.mjs');
const hosts: Cluster[] = [];
let redis: RedisCluster | undefined;
afterEach(async () => {
  await Promise.all(hosts.splice(0).map((h) => h.stop('SIGKILL')));
  await redis?.stop();
  redis = undefined;
});

const VISIBLE_WITHIN_MS = 5_000;

async function host(extra: string[] = []): Promise<Cluster> {
  const h = await startCluster(app, { workers: 1, extraArgs: ['--redis', redis!.url, '--redis-cluster', ...extra] });
  hosts.push(h);
  return h;
}

async function set(port: number, v: string, cookie?: string): Promise<string> {
  const r = await getJson(port, `/set?k=who&v=${v}`, cookie ? { headers: { cookie } } : {});
  expect(r.status, r.body).toBe(200);
  return cookie ?? [r.headers['set-cookie'] ?? []].flat()[0]!.split(';')[0]!;
}
const who = async (port: number, cookie: string): Promise<unknown> =>
  (await getJson<{ value: unknown }>(port, '/get?k=who', { headers: { cookie } })).json.value;

describe('sessions through a redis cluster', () => {
  it.each([['replicated'], ['distributed']])('%s: hosts share sessions spread over every master; a later host reads them all', async (mode) => {
    redis = await startRedisCluster(3);
    const a = await host(['--sessions', mode]);
    const b = await host(['--sessions', mode]);
    const cookies: string[] = [];
    for (let i = 0; i < 30; i++) cookies.push(await set(i % 2 ? a.port : b.port, `user${i}`));
    for (const [i, c] of cookies.entries()) {
      await waitFor(async () => (await who(a.port, c)) === `user${i}` && (await who(b.port, c)) === `user${i}`, VISIBLE_WITHIN_MS, `session ${i} on both hosts`);
    }
    // The sessions really are spread: every master holds some.
    for (const p of redis.ports) {
      const n = Number(spawnSync('redis-cli', ['-p', String(p), 'dbsize'], { encoding: 'utf8' }).stdout.trim());
      expect(n, `keys on node ${p}`).toBeGreaterThan(0);
    }
    const c = await host(['--sessions', mode]);
    for (const [i, cookie] of cookies.entries()) expect(await who(c.port, cookie)).toBe(`user${i}`);
  });
});
