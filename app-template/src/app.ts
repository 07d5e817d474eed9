/**
 * The app itself, built by a function so that tests can run it in one
 * process (app.inject, no port) and src/server.ts can serve it.
 */
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import shoalSession from 'shoal/fastify';
import { workerId } from 'shoal';

export interface AppOptions {
  /** Signs the session cookie; at least 32 characters. */
  readonly sessionSecret: string;
  readonly logger?: FastifyServerOptions['logger'];
}

export async function buildApp(opts: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({ logger: opts.logger ?? false });
  // Sessions every worker of the host shares: a client's next request may
  // reach another worker and still sees what the last one stored.
  await app.register(shoalSession, { secret: opts.sessionSecret });

  // 1, 2, … under shoal; 0 when the app runs alone (npm run dev, tests).
  const worker = workerId ?? 0;

  app.get('/', async () => ({ hello: 'world', worker }));

  // For load balancers and uptime checks: cheap, no session.
  app.get('/health', async () => ({ ok: true }));

  app.get('/visits', async (req) => {
    const seen = req.session.get('visits');
    const visits = (typeof seen === 'number' ? seen : 0) + 1;
    req.session.set('visits', visits);
    return { visits, worker };
  });

  return app;
}
