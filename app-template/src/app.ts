// The example app `npm start` serves clustered (and, later, what `shoal new` copies).
// A plain fastify app: it listens on PORT as usual; shoal hands it connections.
import Fastify from 'fastify';
import { onShutdown, workerId } from 'shoal';

const app = Fastify({ logger: false });

app.get('/', async () => ({ hello: 'world', worker: workerId ?? 0, pid: process.pid }));
app.get('/health', async () => ({ ok: true }));

onShutdown(async () => { await app.close(); });

await app.listen({ port: Number(process.env.PORT ?? 3000), host: process.env.HOST ?? '0.0.0.0' });
