/** Reads what a HAProxy agent-check gets: connect, send nothing, read until the agent closes. */
import net from 'node:net';

/** How long the agent may take to answer and close before the read counts as hung. */
export const AGENT_READ_TIMEOUT_MS = 2_000;

export function agentLine(port: number, host = '127.0.0.1', timeoutMs = AGENT_READ_TIMEOUT_MS): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, host);
    let data = '';
    s.setEncoding('utf8');
    s.on('data', (c: string) => { data += c; });
    s.on('end', () => resolve(data));
    s.on('error', reject);
    s.setTimeout(timeoutMs, () => { s.destroy(); reject(new Error(`agent on ${host}:${port} did not answer and close within ${timeoutMs} ms (got ${JSON.stringify(data)})`)); });
  });
}

/** The weight percentage of an `up ready N%` answer; undefined for drain and others. */
export const weightOf = (line: string): number | undefined => {
  const m = /(\d+)%/.exec(line);
  return m ? Number(m[1]) : undefined;
};
