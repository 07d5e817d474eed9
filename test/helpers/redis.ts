/**
 * A real redis-server per test, on a free port, keeping nothing on disk, so
 * a test may kill it and start it again empty (an outage with data loss);
 * or, with `persist`, writing every command to an append-only file first, so
 * that it comes back from a kill with everything it acknowledged.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './cluster.js';

export interface RedisServer {
  readonly port: number;
  readonly url: string;
  /** Stops the server (SIGKILL: an outage, not a shutdown). */
  kill(): Promise<void>;
  /** Starts it again on the same port: empty, or with its data when started with `persist`. */
  restart(): Promise<void>;
}

/** How long a fresh redis-server may take to accept connections. */
const START_TIMEOUT_MS = 5_000;

function launch(port: number, password: string | undefined, extra: string[] = []): Promise<ChildProcess> {
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'yes', ...extra];
  if (password) args.push('--requirepass', password);
  const p = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => { p.kill('SIGKILL'); reject(new Error(`redis-server on ${port} did not start: ${out.slice(-500)}`)); }, START_TIMEOUT_MS);
    p.once('error', (e) => { clearTimeout(timer); reject(new Error(`cannot run redis-server (is it installed?): ${e.message}`)); });
    p.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      if (/Ready to accept connections/.test(out)) { clearTimeout(timer); resolve(p); }
    });
    p.once('exit', (code) => { clearTimeout(timer); reject(new Error(`redis-server exited with ${code}: ${out.slice(-500)}`)); });
  });
}

const started = new Set<ChildProcess>();
process.once('exit', () => { for (const p of started) p.kill('SIGKILL'); });

export async function startRedis(opts: { password?: string; tls?: { cert: string; key: string }; persist?: boolean } = {}): Promise<RedisServer> {
  const port = await freePort();
  // With TLS the server speaks only TLS on `port` (the plain port is off).
  const tlsArgs = opts.tls ? ['--port', '0', '--tls-port', String(port), '--tls-cert-file', opts.tls.cert, '--tls-key-file', opts.tls.key, '--tls-auth-clients', 'no'] : [];
  if (opts.persist) {
    // fsync on every write: what Redis answered is on disk when it is killed.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shoal-redis-aof-'));
    process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
    tlsArgs.push('--appendonly', 'yes', '--appendfsync', 'always', '--dir', dir);
  }
  let proc = await launch(port, opts.password, tlsArgs);
  started.add(proc);
  const kill = async (): Promise<void> => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    const gone = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGKILL');
    await gone;
    started.delete(proc);
  };
  return {
    port,
    url: `${opts.tls ? 'rediss' : 'redis'}://${opts.password ? `:${opts.password}@` : ''}127.0.0.1:${port}`,
    kill,
    async restart() {
      await kill();
      proc = await launch(port, opts.password, tlsArgs);
      started.add(proc);
    },
  };
}

/** True when something accepts TCP connections on 127.0.0.1:port. */
export function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

export interface RedisCluster {
  readonly ports: number[];
  /** A seed node's URL (any node: ioredis discovers the others). */
  readonly url: string;
  stop(): Promise<void>;
}

/** How long a new cluster may take to agree on its slots. */
const CLUSTER_READY_TIMEOUT_MS = 15_000;

/** A free port whose cluster bus port (port + 10000) is free too. */
async function clusterPort(taken: Set<number>): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const p = await freePort();
    if (p + 10_000 > 65_535 || taken.has(p)) continue;
    if (!(await accepts(p + 10_000))) return p;
  }
  throw new Error('no free port pair for a redis cluster node');
}

/** A Redis Cluster of `n` masters (no replicas), each node a redis-server of its own, keeping nothing on disk. */
export async function startRedisCluster(n = 3): Promise<RedisCluster> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shoal-redis-cluster-'));
  const taken = new Set<number>();
  const ports: number[] = [];
  for (let i = 0; i < n; i++) { const p = await clusterPort(taken); taken.add(p); ports.push(p); }
  const procs = await Promise.all(ports.map((port) => launch(port, undefined, [
    '--cluster-enabled', 'yes', '--cluster-config-file', path.join(dir, `nodes-${port}.conf`), '--cluster-node-timeout', '2000', '--dir', dir,
  ])));
  for (const p of procs) started.add(p);
  const stop = async (): Promise<void> => {
    await Promise.all(procs.map((p) => new Promise<void>((resolve) => {
      if (p.exitCode !== null || p.signalCode !== null) { resolve(); return; }
      p.once('exit', () => resolve());
      p.kill('SIGKILL');
    })));
    for (const p of procs) started.delete(p);
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    const create = spawnSync('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'], { encoding: 'utf8', timeout: CLUSTER_READY_TIMEOUT_MS });
    if (create.status !== 0) throw new Error(`redis-cli --cluster create failed: ${create.stdout}${create.stderr}`);
    const t0 = Date.now();
    for (;;) {
      const ok = ports.every((p) => /cluster_state:ok/.test(spawnSync('redis-cli', ['-p', String(p), 'cluster', 'info'], { encoding: 'utf8' }).stdout));
      if (ok) break;
      if (Date.now() - t0 > CLUSTER_READY_TIMEOUT_MS) throw new Error('the redis cluster did not reach cluster_state:ok');
      await new Promise((r) => setTimeout(r, 100));
    }
  } catch (e) {
    await stop();
    throw e;
  }
  return { ports, url: `redis://127.0.0.1:${ports[0]}`, stop };
}

export interface RedisSentinel {
  /** The sentinel's port; the master it watches is `master`. */
  readonly port: number;
  readonly masterName: string;
  readonly master: RedisServer;
  stop(): Promise<void>;
}

/** A master (startRedis) watched by one Redis Sentinel (redis-server --sentinel) on a free port. */
export async function startRedisSentinel(): Promise<RedisSentinel> {
  const master = await startRedis();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shoal-redis-sentinel-'));
  const port = await freePort();
  const conf = path.join(dir, 'sentinel.conf');
  fs.writeFileSync(conf, [`port ${port}`, 'bind 127.0.0.1', `dir ${dir}`, `sentinel monitor shoalmaster 127.0.0.1 ${master.port} 1`, ''].join('\n'));
  const p = spawn('redis-server', [conf, '--sentinel'], { stdio: ['ignore', 'pipe', 'pipe'] });
  started.add(p);
  await new Promise<void>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`redis sentinel did not start: ${out.slice(-500)}`)), START_TIMEOUT_MS);
    p.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      if (/\+monitor master shoalmaster/.test(out)) { clearTimeout(timer); resolve(); }
    });
    p.once('exit', (code) => { clearTimeout(timer); reject(new Error(`redis sentinel exited with ${code}: ${out.slice(-500)}`)); });
  });
  return {
    port,
    masterName: 'shoalmaster',
    master,
    async stop() {
      if (p.exitCode === null && p.signalCode === null) { const gone = new Promise((r) => p.once('exit', r)); p.kill('SIGKILL'); await gone; }
      started.delete(p);
      await master.kill();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
