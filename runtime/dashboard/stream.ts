/**
 * GET /events: the dashboard's server-sent events. First `info` (what the
 * page may offer), then the feed's `history`, then a `sample` per interval
 * and a `mark` per event as they happen. A page that goes away (the
 * connection closes) is unsubscribed at once; one that stops reading is cut
 * off once MAX_BUFFERED_BYTES wait for it, so a stuck client holds no memory.
 */
import type http from 'node:http';
import type { StreamRoute } from '../admin/server.js';
import type { DashboardFeed } from './feed.js';

/** Open dashboards at most: beyond this, a page gets 503 and scrapers keep their connections (server.ts' MAX_ADMIN_CONNECTIONS). */
export const MAX_STREAMS = 16;
/** Room for the history a page gets first (5 minutes of a large cluster) and a few samples behind it. */
export const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;
/** How soon a page's EventSource reconnects after the stream breaks, ms. */
export const RECONNECT_MS = 2_000;

export interface StreamInfo {
  readonly actions: boolean;
  readonly version: string;
}

export function eventStream(feed: () => DashboardFeed | undefined, info: StreamInfo): StreamRoute {
  let open = 0;
  return (req: http.IncomingMessage, res: http.ServerResponse) => {
    const f = feed();
    const refuse = (status: number, why: string): void => {
      res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', 'retry-after': '5' });
      res.end(why);
    };
    if (!f) { refuse(503, 'starting\n'); return; }
    if (open >= MAX_STREAMS) { refuse(503, `too many dashboards open (at most ${MAX_STREAMS})\n`); return; }
    open++;
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
    const send = (event: string, json: string): void => {
      if (res.writableLength > MAX_BUFFERED_BYTES) { res.destroy(); return; }
      res.write(`event: ${event}\ndata: ${json}\n\n`);
    };
    res.write(`retry: ${RECONNECT_MS}\n\n`);
    send('info', JSON.stringify(info));
    const unsubscribe = f.subscribe(send);
    res.on('close', () => { open--; unsubscribe(); });
    req.socket.setTimeout(0);
  };
}
