/**
 * Settings from the environment, read once at start-up. A missing setting
 * that production needs stops the app at once with a message saying what
 * to set, rather than serving with an unsafe default.
 */
export interface Config {
  readonly port: number;
  readonly host: string;
  readonly logLevel: string;
  readonly sessionSecret: string;
  /** True when SESSION_SECRET was not set and the development secret is used. */
  readonly devSecret: boolean;
}

// Public on purpose: it only ever signs cookies of a development machine.
// Every worker of a cluster must sign with the same secret, which a constant is.
const DEV_SECRET = 'development-only-secret-do-not-use-in-production';

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const secret = env.SESSION_SECRET;
  if (!secret && env.NODE_ENV === 'production') {
    throw new Error("SESSION_SECRET is not set: production (NODE_ENV=production) needs a random secret of at least 32 characters, the same for every worker and host, e.g. SESSION_SECRET=$(openssl rand -base64 48)");
  }
  const port = Number(env.PORT || 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT must be a port number, not '${env.PORT}'`);
  return {
    port,
    // Only used when the app runs alone (npm run dev): under shoal the cluster binds the address (shoal start --host).
    host: env.HOST ?? '127.0.0.1',
    logLevel: env.LOG_LEVEL ?? 'info',
    sessionSecret: secret || DEV_SECRET,
    devSecret: !secret,
  };
}
