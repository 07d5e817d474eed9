/** A server-sent events client on a real socket, for the dashboard's /events: events as they come, every wait bounded. */
import http from 'node:http';
import type { AdminAt } from './admin.js';

export interface SseEvent { readonly event: string; readonly data: string }

export interface SseStream {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly events: SseEvent[];
  /** Resolves with the first event (past or future) matching `pred`. */
  waitFor(pred: (e: SseEvent) => boolean, timeoutMs?: number): Promise<SseEvent>;
  /** Resolves once the server has ended the stream. */
  readonly ended: Promise<void>;
  close(): void;
}

export function openEvents(a: AdminAt, headers: http.OutgoingHttpHeaders = {}, timeoutMs = 5_000): Promise<SseStream> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: a.host, port: a.port, path: '/events', headers, agent: false }, (res) => {
      clearTimeout(timer);
      const events: SseEvent[] = [];
      const waiters: { pred: (e: SseEvent) => boolean; resolve: (e: SseEvent) => void }[] = [];
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        buf += c;
        let end: number;
        while ((end = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, end);
          buf = buf.slice(end + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event === undefined || data === undefined) continue;
          const e = { event, data };
          events.push(e);
          for (const w of waiters.splice(0)) { if (w.pred(e)) w.resolve(e); else waiters.push(w); }
        }
      });
      const ended = new Promise<void>((r) => { res.on('close', () => r()); });
      resolve({
        status: res.statusCode ?? 0, headers: res.headers, events, ended,
        waitFor: (pred, ms = 10_000) => {
          const found = events.find(pred);
          if (found) return Promise.resolve(found);
          return new Promise((ok, fail) => {
            const t = setTimeout(() => fail(new Error(`no matching event within ${ms} ms; got ${events.map((e) => e.event).join(', ')}`)), ms);
            waiters.push({ pred, resolve: (e) => { clearTimeout(t); ok(e); } });
          });
        },
        close: () => { req.destroy(); },
      });
    });
    const timer = setTimeout(() => { req.destroy(); reject(new Error(`/events: no response within ${timeoutMs} ms`)); }, timeoutMs);
    req.on('error', (e) => { clearTimeout(timer); reject(e); });
  });
}
