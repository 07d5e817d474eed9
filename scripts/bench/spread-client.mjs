// Scenario e's client: which worker takes each of `count` keep-alive
// connections. Each connection sends one GET /stall (the app answers with its
// pid) and stays open, so a balancer that counts connections sees them all
// until the job closes them together at the end. Runs in the load generator.
import { performance } from 'node:perf_hooks';
import { fetchOnce } from './clients.mjs';
import { summarize } from './stats.mjs';

/**
 * burst=false: one connection after another (the next opens once the previous
 * one has its answer, none after deadlineMs: those count as `unsent`);
 * burst=true: all `count` opened in the same tick.
 * Resolves { pids: { pid: n }, outcomes, ok, errors, timeouts, resets,
 * closedEarly, ms, answered }; answered summarizes how long each answered
 * connection took from connect() to its answer (in a burst: how long the
 * last ones waited to be accepted). closedEarly counts answered connections the server closed
 * before the job did (a keep-alive timeout), which a connection count would miss.
 */
export function spread({ port, count, burst, timeoutMs, deadlineMs, path = '/stall' }) {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const pids = {};
    const outcomes = { ok: 0 };
    const open = [];
    const took = [];
    let closedEarly = 0;
    let closing = false;
    let finished = 0;
    const end = () => {
      const ms = Math.round(performance.now() - t0);
      closing = true;
      for (const sock of open) sock.destroy();
      const errors = count - outcomes.ok;
      resolve({ pids, outcomes, ok: outcomes.ok, errors, timeouts: outcomes.timeout ?? 0, resets: outcomes.reset ?? 0, closedEarly, ms, answered: summarize(took) });
    };
    const one = () => fetchOnce(port, path, timeoutMs, (outcome, ms, buf, sock) => {
      const pid = outcome === 'ok' && /"pid":(\d+)/.exec(buf.toString('latin1'))?.[1];
      if (outcome === 'ok') took.push(ms);
      const kind = outcome === 'ok' && !pid ? 'no pid' : outcome;
      outcomes[kind] = (outcomes[kind] ?? 0) + 1;
      if (pid) pids[pid] = (pids[pid] ?? 0) + 1;
      if (sock) {
        open.push(sock);
        sock.on('close', () => { if (!closing) closedEarly++; });
      }
      if (++finished === count) end();
      else if (burst) return;
      else if (performance.now() - t0 < deadlineMs) one();
      else {
        outcomes.unsent = count - finished;
        end();
      }
    }, { keepAlive: true });
    if (burst) for (let i = 0; i < count; i++) one();
    else one();
  });
}
