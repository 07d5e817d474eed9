/**
 * The entry point: `npm start` runs it clustered (shoal start src/server.ts),
 * `npm run dev` runs it alone with reload on change.
 */
import { onShutdown } from 'shoal';
import { buildApp } from './app.js';
import { loadConfig } from './config.js';

const config = loadConfig();
const app = await buildApp({ sessionSecret: config.sessionSecret, logger: { level: config.logLevel } });
if (config.devSecret) app.log.warn('SESSION_SECRET is not set: sessions are signed with the development secret (production refuses to start without one)');

// When shoal retires this worker (stop, reload, scale down) it first stops
// handing it connections, then runs this: close() lets in-flight requests
// finish and runs the app's onClose hooks (close database pools there).
onShutdown(() => app.close());

// Under shoal, PORT is the port the cluster serves and this listen does not
// bind: shoal hands the worker its connections.
await app.listen({ port: config.port, host: config.host });
