/**
 * `shoal/fastify`: sessions for fastify apps.
 *
 *   import shoalSession from 'shoal/fastify'
 *   await app.register(shoalSession, { secret: process.env.SESSION_SECRET })
 *   app.get('/', async (req) => { req.session.set('visits', Number(req.session.get('visits') ?? 0) + 1) })
 *
 * request.session is loaded in onRequest (a local lookup, no I/O) and its
 * changes are saved in onSend, before the response goes out: once the
 * client has the response, every worker of the host sees the change.
 * Registered without encapsulation (as fastify-plugin would), so every
 * route of the app gets request.session.
 */
import type { FastifyInstance, FastifyPluginCallback, FastifyReply } from 'fastify';
import { Session, SessionManager, type SessionOptions } from './manager.js';

declare module 'fastify' {
  interface FastifyRequest {
    session: Session;
  }
}

export type ShoalSessionOptions = SessionOptions;

function shoalSession(app: FastifyInstance, opts: ShoalSessionOptions, done: (err?: Error) => void): void {
  let manager: SessionManager;
  try {
    manager = new SessionManager(opts);
  } catch (e) {
    done(e as Error);
    return;
  }
  app.decorateRequest('session', null as unknown as Session);
  app.addHook('onRequest', (req, _reply, next) => {
    const s = manager.resolve(req.headers.cookie, { secure: req.protocol === 'https' }, true);
    if (s instanceof Session) { req.session = s; next(); return; }
    // Read-through: a session this worker does not hold is fetched before the route runs.
    s.then((loaded) => { req.session = loaded; next(); }, next);
  });
  app.addHook('onSend', (req, reply, payload, next) => {
    const s = req.session as Session | null;
    if (!s) { next(null, payload); return; }
    s.save().then(
      () => { for (const line of s.cookies()) addCookie(reply, line); next(null, payload); },
      (err: Error) => next(err),
    );
  });
  done();
}

/** fastify appends to Set-Cookie lines the route may have set itself (it never replaces that header). */
function addCookie(reply: FastifyReply, line: string): void {
  reply.header('set-cookie', line);
}

// What fastify-plugin sets: apply to the parent scope (no encapsulation), and name the plugin in errors.
Object.assign(shoalSession, {
  [Symbol.for('skip-override')]: true,
  [Symbol.for('fastify.display-name')]: 'shoal-session',
  [Symbol.for('plugin-meta')]: { name: 'shoal-session', fastify: '>=4' },
});

const plugin: FastifyPluginCallback<ShoalSessionOptions> = shoalSession;
export default plugin;
export { plugin as shoalSession };
export { Session, SessionManager } from './manager.js';
