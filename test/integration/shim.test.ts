/**
 * The app's intercepted server must behave as a server that really listens: address(),
 * headersTimeout/requestTimeout, closeIdleConnections() and close() work as in plain Node.
 *
 * Every check runs twice with the same assertions: against the fixture started directly with
 * plain `node` (the reference: it shows what Node itself does, and that the test is right), and
 * against the same fixture under shoal with one worker.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FIXTURES, freePort, startCluster } from '../helpers/cluster.js';
import {
  descendants, getJson, isAlive, openKeepAlive, rawExchange, reap, request, sleep, statusOf, waitFor,
} from '../helpers/http.js';

const FIXTURE = path.join(FIXTURES, 'slow-headers.mjs');
/** The fixture's settings. */
const HEADERS_TIMEOUT = 1000;
const REQUEST_TIMEOUT = 2000;

interface FixtureEvent { fixture: string; pid: number; event: string; error?: string | null; address?: unknown }

interface Target {
  port: number;
  /** Events the fixture wrote (listening, close-event, closed). */
  events(): FixtureEvent[];
  /** What to print when an assertion fails. */
  diagnostics(): string;
  stop(): Promise<void>;
}

const started = new Set<number>();
const tmpDirs: string[] = [];
let current: Target | undefined;

function eventsReader(file: string): () => FixtureEvent[] {
  return () => {
    let text = '';
    try { text = readFileSync(file, 'utf8'); } catch { return []; }
    return text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as FixtureEvent);
  };
}

function newEventsFile(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'shoal-shim-'));
  tmpDirs.push(dir);
  return path.join(dir, 'events.jsonl');
}

/** The fixture run with plain `node`, PORT set, no shoal. */
async function startDirect(): Promise<Target> {
  const port = await freePort();
  const file = newEventsFile();
  const proc = spawn(process.execPath, [FIXTURE], {
    env: { ...process.env, PORT: String(port), FIXTURE_EVENTS_FILE: file },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (proc.pid) started.add(proc.pid);
  let out = '';
  proc.stdout.setEncoding('utf8').on('data', (c: string) => { out += c; });
  proc.stderr.setEncoding('utf8').on('data', (c: string) => { out += c; });
  const events = eventsReader(file);
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  const t: Target = {
    port,
    events,
    diagnostics: () => `plain node output:\n${out}`,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
  current = t;
  await waitFor(() => events().some((e) => e.event === 'listening') || proc.exitCode !== null, 10_000,
    `the fixture to listen on ${port} (${t.diagnostics()})`);
  if (proc.exitCode !== null) throw new Error(`fixture exited early: ${t.diagnostics()}`);
  return t;
}

/** The fixture under shoal, one worker (so every connection lands on the same server). */
async function startShoal(): Promise<Target> {
  const file = newEventsFile();
  const c = await startCluster(FIXTURE, { workers: 1, env: { FIXTURE_EVENTS_FILE: file } });
  if (c.proc.pid) started.add(c.proc.pid);
  const t: Target = {
    port: c.port,
    events: eventsReader(file),
    diagnostics: () => `shoal stderr:\n${c.stderr()}\nshoal logs:\n${c.logs.map((l) => JSON.stringify(l)).join('\n')}`,
    async stop() {
      for (const p of descendants(c.proc.pid ?? -1)) started.add(p);
      await c.stop('SIGTERM', 10_000);
    },
  };
  current = t;
  for (const p of descendants(c.proc.pid ?? -1)) started.add(p);
  return t;
}

afterEach(async () => {
  const t = current;
  current = undefined;
  if (t) await t.stop();
  await waitFor(() => [...started].every((p) => !isAlive(p)), 3000, 'processes to exit').catch(() => undefined);
  reap(started);
  started.clear();
  for (const d of tmpDirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe.each([
  { name: 'plain node (reference)', start: startDirect, shoal: false },
  { name: 'under shoal', start: startShoal, shoal: true },
])('intercepted server behaves as a listening one: $name', ({ start, shoal }) => {
  it('address() reports the port the app is served on, and server.listening is true', async () => {
    const t = await start();
    for (let i = 0; i < 3; i++) {
      const r = await getJson<{ pid: number; listening: boolean; address: { port?: unknown; address?: unknown } | string | null }>(
        t.port, '/address');
      expect(r.status).toBe(200);
      expect(r.json.listening, 'server.listening in the app').toBe(true);
      expect(r.json.address, `server.address() in the app; ${t.diagnostics()}`).toMatchObject({ port: t.port });
      expect(typeof (r.json.address as { address?: unknown }).address).toBe('string');
    }
    // The listen callback ran and saw the same address.
    const listening = t.events().find((e) => e.event === 'listening');
    expect(listening, `the fixture's listen() callback ran; ${t.diagnostics()}`).toBeDefined();
    expect(listening!.address).toMatchObject({ port: t.port });
  });

  it('the socket gets the server\'s options: Nagle off, as http servers set it', async () => {
    const t = await start();
    const r = await getJson<{ noDelay: boolean | null }>(t.port, '/socket');
    expect(r.json.noDelay, t.diagnostics()).toBe(true);
  });

  it(`headersTimeout (${HEADERS_TIMEOUT} ms): half a request head is answered 408 / closed in time`, async () => {
    const t = await start();
    const r = await rawExchange(t.port, 'GET / HTTP/1.1\r\nHost: x\r\n', 8000);
    expect(r.closed, `server closed the connection within 8 s; got ${JSON.stringify(r.data)}; ${t.diagnostics()}`).toBe(true);
    // Node answers 408 then closes (see the reference run).
    expect(statusOf(r.data), `answer: ${JSON.stringify(r.data)}`).toBe(408);
    expect(r.elapsedMs).toBeGreaterThanOrEqual(HEADERS_TIMEOUT - 200);
    expect(r.elapsedMs).toBeLessThan(HEADERS_TIMEOUT + 3000);
  });

  it(`requestTimeout (${REQUEST_TIMEOUT} ms): a body that never completes is answered 408 / closed in time`, async () => {
    const t = await start();
    // Control: the same route with a complete body works.
    const ok = await request(t.port, '/body', { method: 'POST', body: 'ab', headers: { 'content-length': '2' } });
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body)).toMatchObject({ bytes: 2 });

    const r = await rawExchange(t.port, 'POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nab', 10_000);
    expect(r.closed, `server closed the connection within 10 s; got ${JSON.stringify(r.data)}; ${t.diagnostics()}`).toBe(true);
    expect(statusOf(r.data), `answer: ${JSON.stringify(r.data)}`).toBe(408);
    expect(r.elapsedMs).toBeGreaterThanOrEqual(REQUEST_TIMEOUT - 200);
    expect(r.elapsedMs).toBeLessThan(REQUEST_TIMEOUT + 3000);
  });

  it('closeIdleConnections() closes an idle keep-alive connection and spares active ones', async () => {
    const t = await start();
    const idle = await openKeepAlive(t.port, '/');
    try {
      expect(idle.status).toBe(200);
      const servedBy = (JSON.parse(idle.body) as { pid: number }).pid;

      // Idle longer than headersTimeout: an idle keep-alive connection is not timed out by it
      // (and keepAliveTimeout is 60 s), so it must still be open.
      await sleep(HEADERS_TIMEOUT + 500);
      expect(idle.isClosed(), 'idle keep-alive connection still open before closeIdleConnections()').toBe(false);

      // The /idle request is active while closeIdleConnections() runs, so it is answered.
      const r = await getJson<{ ok: boolean; pid: number }>(t.port, '/idle');
      expect(r.status).toBe(200);
      expect(r.json.ok).toBe(true);
      expect(r.json.pid, 'same server as the idle connection').toBe(servedBy);

      const closedWithin = await Promise.race([idle.closed.then(() => true), sleep(3000).then(() => false)]);
      expect(closedWithin, `the idle connection was closed within 3 s of closeIdleConnections(); ${t.diagnostics()}`).toBe(true);
    } finally {
      idle.socket.destroy();
    }
  });

  it('close() stops the server: the close callback runs without error and the server takes no new connection', async () => {
    const t = await start();
    const before = await getJson<{ pid: number }>(t.port, '/');
    expect(before.status).toBe(200);
    const pid = before.json.pid;

    const r = await getJson<{ closing: boolean; pid: number; listening: boolean }>(t.port, '/close');
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ closing: true, pid, listening: false });

    // server.close(cb): the callback runs once the last connection ended, without an error
    // (a server that was never listening would get ERR_SERVER_NOT_RUNNING).
    await waitFor(() => t.events().some((e) => e.event === 'closed'), 5000,
      `the close() callback (events: ${JSON.stringify(t.events())}; ${t.diagnostics()})`);
    const closed = t.events().find((e) => e.event === 'closed')!;
    expect(closed.pid).toBe(pid);
    expect(closed.error, 'close() callback error').toBeNull();
    expect(t.events().some((e) => e.event === 'close-event'), "the server emitted 'close'").toBe(true);

    // A new connection is not served by the closed server. Plain node refuses it; shoal retires
    // the worker whose app closed its server and serves the connection from a replacement.
    const after = await request(t.port, '/', { timeoutMs: 5000 }).then(
      (res) => ({ ok: true as const, res }),
      (err: Error) => ({ ok: false as const, err }),
    );
    if (shoal) {
      expect(after.ok, after.ok ? '' : after.err.message).toBe(true);
      if (after.ok) {
        expect(after.res.status).toBe(200);
        expect((JSON.parse(after.res.body) as { pid: number }).pid, 'served by the closed server').not.toBe(pid);
      }
    } else {
      expect(after.ok).toBe(false);
      if (!after.ok) expect(after.err.message).toMatch(/ECONNREFUSED/);
    }
  });
});
