/**
 * A real redis-server per test, on a free port, keeping nothing on disk, so
 * a test may kill it and start it again empty (an outage with data loss).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { freePort } from './cluster.js';

export interface RedisServer {
  readonly port: number;
  readonly url: string;
  /** Stops the server (SIGKILL: an outage, not a shutdown). */
  kill(): Promise<void>;
  /** Starts it again on the same port, empty. */
  restart(): Promise<void>;
}

/** How long a fresh redis-server may take to accept connections. */
const START_TIMEOUT_MS = 5_000;

function launch(port: number, password: string | undefined): Promise<ChildProcess> {
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'yes'];
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

export async function startRedis(opts: { password?: string } = {}): Promise<RedisServer> {
  const port = await freePort();
  let proc = await launch(port, opts.password);
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
    url: opts.password ? `redis://:${opts.password}@127.0.0.1:${port}` : `redis://127.0.0.1:${port}`,
    kill,
    async restart() {
      await kill();
      proc = await launch(port, opts.password);
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
