// App for scripts/scrape-cost.mjs: prom-client's default metrics, plus a
// counter and a histogram per request, in the default registry (what a
// typical instrumented app has).
import http from 'node:http';
import client from 'prom-client';

client.collectDefaultMetrics();
const served = new client.Counter({ name: 'app_requests_total', help: 'Requests served', labelNames: ['route'] });
const took = new client.Histogram({ name: 'app_request_seconds', help: 'Request time', labelNames: ['route'] });
http.createServer((req, res) => {
  const end = took.startTimer({ route: '/' });
  served.inc({ route: '/' });
  res.end('hello\n');
  end();
}).listen(process.env.PORT);
