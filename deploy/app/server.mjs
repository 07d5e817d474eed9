// The example app the Dockerfile and the Kubernetes manifest run: a plain
// node:http server on process.env.PORT, as any app shoal starts.
import http from 'node:http';

http.createServer((req, res) => {
  res.setHeader('content-type', 'text/plain; charset=utf-8');
  res.end(`hello from worker ${process.env.SHOAL_WORKER_ID ?? '-'}\n`);
}).listen(Number(process.env.PORT ?? 8080));
