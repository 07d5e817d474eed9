/**
 * `shoal status | stop | scale | reload | logs`: talk to a running primary
 * over its control socket. Readable on a terminal, JSON with --json;
 * failures are thrown, for report.ts to print.
 */
import { ShoalError } from '../errors.js';
import { controlRequest } from '../control/client.js';
import type { ControlEvent, ControlReply, ControlRequest } from '../control/protocol.js';
import type { Parsed } from './args.js';
import { logsCommand } from './logs.js';
import { ControlFailure } from './report.js';
import { WATCH_INTERVAL_MS, watchStatus } from './watch.js';

interface WorkerRow {
  slot: number; id: number | null; pid: number | null; state: string; uptimeMs: number; restarts: number; weight?: number;
  connections: number; inflight: number; rps: number; elu: number; rssBytes: number; error?: string;
  sessions: { sessions: number; bytes: number; lagP99: number | null } | null;
}
interface StatusReply { primary: Record<string, unknown>; workers: WorkerRow[] }

const out = (s: string): void => { process.stdout.write(s); };

function duration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
const mib = (b: number): string => `${(b / 1048576).toFixed(1)} MiB`;
const kib = (b: number): string => (b < 1024 ? `${b} B` : b < 1048576 ? `${(b / 1024).toFixed(1)} KiB` : mib(b));
const lag = (ms: number | null): string => (ms === null ? '-' : ms < 1 ? `${Math.round(ms * 1000)}µs` : `${ms.toFixed(1)}ms`);

/** The status as a table, for people. Exported for tests. */
export function formatStatus(st: StatusReply): string {
  const p = st.primary;
  const hs = p.sessions as { sessions: number; bytes: number } | undefined;
  const rd = p.redis as { status: string; queued: number } | null | undefined;
  const agent = p.agent as { address: string; answer: string } | null | undefined;
  const head = `cluster ${String(p.name)}  primary pid ${String(p.pid)}  up ${duration(Number(p.uptimeMs))}  balancer ${String(p.balancer)}  accept ${String(p.accept ?? 'handoff')}  port ${String(p.port)}  queued ${String(p.queued)}` +
    (hs ? `  sessions ${hs.sessions} (${kib(hs.bytes)})` : '') +
    (rd ? `  redis ${rd.status}${rd.queued > 0 ? ` (${rd.queued} session${rd.queued === 1 ? '' : 's'} queued)` : ''}` : '') +
    (typeof p.admin === 'string' ? `  admin ${p.admin}` : '') +
    (agent ? `  agent ${agent.address} (${agent.answer})` : '') +
    (typeof p.stoppingInMs === 'number' ? `  stopping in ${Math.ceil(p.stoppingInMs / 1000)}s (shutdown delay: still serving, not ready)` : '') + '\n';
  // Weights only when some slot has one (--weights): otherwise the column says nothing.
  const weighted = st.workers.some((w) => (w.weight ?? 1) !== 1);
  const cols = ['slot', 'id', 'pid', 'state', 'uptime', 'restarts', ...(weighted ? ['weight'] : []), 'conns', 'inflight', 'req/s', 'elu', 'memory', 'sessions', 'sess data', 'repl p99'];
  const rows = st.workers.map((w) => [
    w.slot, w.id ?? '-', w.pid ?? '-', w.state, duration(w.uptimeMs), w.restarts, ...(weighted ? [w.weight ?? 1] : []), w.connections, w.inflight, w.rps, w.elu.toFixed(2), mib(w.rssBytes),
    w.sessions?.sessions ?? '-', w.sessions ? kib(w.sessions.bytes) : '-', lag(w.sessions?.lagP99 ?? null),
  ].map(String));
  const widths = cols.map((c, i) => Math.max(c.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]): string => `${r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()}\n`;
  const errors = st.workers.filter((w) => w.error).map((w) => `slot ${w.slot}: ${w.error}\n`).join('');
  return head + line(cols) + rows.map(line).join('') + errors;
}

/** One host of a multi-host deployment, as its heartbeat in Redis describes it. */
interface HostRow {
  host: string; hostname: string; pid: number; port: number; name: string; seenAt: number;
  workers: number; ready: number; connections: number; inflight: number; rps: number; sessions: number; self?: boolean;
}

/** The hosts sharing this cluster's Redis, for `status --cluster`. Exported for tests. */
export function formatHosts(hosts: HostRow[], now = Date.now()): string {
  const cols = ['host', 'hostname', 'port', 'pid', 'workers', 'conns', 'inflight', 'req/s', 'sessions', 'seen'];
  const rows = hosts.map((h) => [
    `${h.host}${h.self ? ' *' : ''}`, h.hostname, h.port, h.pid, `${h.ready}/${h.workers}`, h.connections, h.inflight, h.rps, h.sessions,
    `${Math.max(0, Math.round((now - h.seenAt) / 1000))}s ago`,
  ].map(String));
  const widths = cols.map((c, i) => Math.max(c.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]): string => `${r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()}\n`;
  return `\nhosts sharing this cluster's redis (${hosts.length}; * = this one)\n${line(cols)}${rows.map(line).join('')}`;
}

/** What `status` prints for a reply: the table, and the hosts with --cluster. */
function statusText(req: ControlRequest, reply: ControlReply): string {
  const hosts = req.cmd === 'status' && req.cluster ? formatHosts((reply as unknown as { hosts: HostRow[] }).hosts) : '';
  return formatStatus(reply as unknown as StatusReply) + hosts;
}

function describeEvent(e: ControlEvent): string {
  switch (e.event) {
    case 'starting': return `slot ${String(e.slot)}: starting a new worker (replacing worker ${String(e.old)})\n`;
    case 'ready': return `slot ${String(e.slot)}: new worker ${String(e.worker)} ready in ${String(e.ms)} ms\n`;
    case 'retired': return `slot ${String(e.slot)}: old worker ${String(e.worker)} drained and exited\n`;
    // An older primary sends this before its failure reply, which says the same: print it once.
    case 'failed': return '';
    default: return `${JSON.stringify(e)}\n`;
  }
}

function requestFor(p: Parsed): ControlRequest {
  switch (p.command) {
    case 'status': return p.flags.cluster === true ? { cmd: 'status', cluster: true } : { cmd: 'status' };
    case 'stop': return { cmd: 'stop' };
    case 'scale': {
      const to = p.positionals[0];
      if (!to || !/^[+-]?\d+$/.test(to) || p.positionals.length > 1) throw new ShoalError('SHOAL_ERR_BAD_VALUE', 'scale', p.positionals.join(' ') || '(nothing)', 'a worker count N, +N or -N, e.g. shoal scale 4');
      return { cmd: 'scale', to };
    }
    case 'reload': {
      const k = p.flags.parallel;
      if (k === undefined) return { cmd: 'reload' };
      if (typeof k !== 'string' || !/^\d+$/.test(k) || Number(k) < 1) throw new ShoalError('SHOAL_ERR_BAD_VALUE', '--parallel', String(k), 'a whole number of at least 1');
      return { cmd: 'reload', parallel: Number(k) };
    }
    default: throw new ShoalError('SHOAL_ERR_UNKNOWN_COMMAND', String(p.command), 'start, status, stop, scale, reload, logs');
  }
}

export async function controlCommand(p: Parsed, env = process.env): Promise<number> {
  const json = p.flags.json === true;
  const name = typeof p.flags.name === 'string' ? p.flags.name : undefined;
  if (p.command !== 'scale' && p.positionals.length > 0) throw new ShoalError('SHOAL_ERR_BAD_VALUE', String(p.command), p.positionals.join(' '), 'no arguments (use --name to pick a cluster)');
  if (p.command === 'logs') return logsCommand(p, env);
  const req = requestFor(p);
  if (req.cmd === 'status' && p.flags.watch === true) {
    return watchStatus(name, req, (r) => statusText(req, r), { json, tty: process.stdout.isTTY === true, intervalMs: WATCH_INTERVAL_MS, env });
  }
  const reply: ControlReply = await controlRequest(name, req, (e) => out(json ? `${JSON.stringify(e)}\n` : describeEvent(e)), env);
  if (!reply.ok) throw new ControlFailure(reply);
  // On stderr in both modes: it is for the person, and stdout stays the reply alone.
  if (typeof reply.warning === 'string') process.stderr.write(`shoal: warning: ${reply.warning}\n`);
  if (json) { out(`${JSON.stringify(reply)}\n`); return 0; }
  switch (req.cmd) {
    case 'status': out(statusText(req, reply)); break;
    case 'stop': out('stopped\n'); break;
    case 'scale': out(`scaled from ${String(reply.from)} to ${String(reply.to)} workers\n`); break;
    case 'reload': out(`reloaded: ${String(reply.replaced)} workers replaced${typeof reply.ms === 'number' ? ` in ${(reply.ms / 1000).toFixed(1)} s` : ''}\n`); break;
  }
  return 0;
}
