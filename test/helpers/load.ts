/**
 * A real HTTP load client for integration tests: concurrent loops, each
 * request with its own timeout so a hang is counted (never waited out), and
 * every failure classified (reset, hang, other).
 */
import http from 'node:http';

export interface LoadCounts {
  ok: number;
  non2xx: number;
  resets: number;
  hung: number;
  /** Connections refused (the port was closed). */
  refused: number;
  other: number;
  errors: string[];
  /** Distinct values of the response header `x-worker` (when the app sets it). */
  workers: Set<string>;
}

/** Every request that did not end in a 2xx response. */
export const failures = (c: LoadCounts): number => c.non2xx + c.resets + c.hung + c.refused + c.other;

export interface LoadOptions {
  port: number;
  path?: string;
  concurrency?: number;
  /** Per-request timeout: a request that takes longer counts as hung. */
  timeoutMs?: number;
  /** true: one keep-alive agent per loop; false: a new connection per request. */
  keepAlive?: boolean;
  /** Hard bound on requests per loop (loops are bounded in count and time). */
  maxPerLoop?: number;
}

export function request(port: number, path: string, agent: http.Agent | false, timeoutMs: number, headers: http.OutgoingHttpHeaders = {}):
  Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(Object.assign(new Error('request hung'), { code: 'HUNG' })));
    req.on('error', reject);
  });
}

/** Runs load until `stop` resolves; returns the counts once every loop has finished. */
export async function runLoad(opts: LoadOptions, stop: Promise<unknown>): Promise<LoadCounts> {
  const counts: LoadCounts = { ok: 0, non2xx: 0, resets: 0, hung: 0, refused: 0, other: 0, errors: [], workers: new Set() };
  let stopped = false;
  void stop.then(() => { stopped = true; });
  const loop = async (): Promise<void> => {
    const agent = opts.keepAlive ? new http.Agent({ keepAlive: true, maxSockets: 1 }) : false;
    for (let i = 0; i < (opts.maxPerLoop ?? 100_000) && !stopped; i++) {
      try {
        const r = await request(opts.port, opts.path ?? '/', agent, opts.timeoutMs ?? 5_000);
        if (r.status >= 200 && r.status < 300) counts.ok++; else counts.non2xx++;
        const w = r.headers['x-worker'];
        if (typeof w === 'string') counts.workers.add(w);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'HUNG') counts.hung++;
        else if (code === 'ECONNRESET' || code === 'EPIPE') counts.resets++;
        else if (code === 'ECONNREFUSED') counts.refused++;
        else counts.other++;
        if (counts.errors.length < 20) counts.errors.push(`${code ?? ''} ${(e as Error).message}`);
      }
    }
    if (agent) agent.destroy();
  };
  await Promise.all(Array.from({ length: opts.concurrency ?? 8 }, loop));
  return counts;
}
