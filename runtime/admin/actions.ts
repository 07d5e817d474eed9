/**
 * The dashboard's buttons: POST /actions/reload and POST /actions/scale
 * ({"to": "3"} or "+1"), the same operations as `shoal reload` and
 * `shoal scale`. Only with a token (issue 9: a server without one is
 * read-only), and only from a page of this server: the request must carry
 * the header X-Shoal-Action (a cross-site form cannot set it, and a
 * cross-site script cannot without a CORS preflight this server never
 * grants) and, from a browser, this host as Origin.
 */
import { isShoalError } from '../errors.js';
import { sameOrigin } from './auth.js';
import type { Asked, Reply, Route } from './server.js';

export interface ActionOps {
  reload(): Promise<Record<string, unknown>>;
  scale(to: string): Promise<Record<string, unknown>>;
}

export const ACTION_HEADER = 'x-shoal-action';

const json = (status: number, body: Record<string, unknown>): Reply =>
  ({ status, type: 'application/json; charset=utf-8', body: `${JSON.stringify(body)}\n` });

/** SHOAL_ERR_BUSY: another operation runs; SHOAL_ERR_BAD_VALUE: a worker count out of range. */
const STATUS_OF: Readonly<Record<string, number>> = { SHOAL_ERR_BUSY: 409, SHOAL_ERR_BAD_VALUE: 400 };

function scaleTarget(body: string): string | undefined {
  try {
    const to = (JSON.parse(body) as { to?: unknown }).to;
    return typeof to === 'string' || typeof to === 'number' ? String(to) : undefined;
  } catch { return undefined; }
}

export function actionRoutes(enabled: boolean, ops: () => ActionOps | undefined): Map<string, Route> {
  const guarded = (run: (o: ActionOps, asked: Asked) => Promise<Reply>): Route => async (_q, asked) => {
    if (!enabled) return json(403, { ok: false, error: 'read-only: actions need the admin server to have a token (--admin-token)' });
    if (asked.headers[ACTION_HEADER] !== '1' || !sameOrigin(asked.headers)) return json(403, { ok: false, error: `refused: an action must come from the dashboard (same origin, with ${ACTION_HEADER})` });
    const o = ops();
    if (!o) return json(503, { ok: false, error: 'starting' });
    try { return await run(o, asked); } catch (e) {
      const code = isShoalError(e) ? e.code : undefined;
      return json((code && STATUS_OF[code]) ?? 500, { ok: false, ...(code ? { code } : {}), error: (e as Error).message });
    }
  };
  return new Map<string, Route>([
    ['/actions/reload', guarded(async (o) => json(200, { ok: true, ...await o.reload() }))],
    ['/actions/scale', guarded(async (o, asked) => {
      const to = scaleTarget(asked.body);
      return to === undefined ? json(400, { ok: false, error: 'send {"to": N} (a worker count, or +N / -N)' }) : json(200, { ok: true, ...await o.scale(to) });
    })],
  ]);
}
