// Hello-world app for scripts/startup-cost.mjs: prints once its listen callback runs.
import http from 'node:http';
http.createServer((req, res) => res.end('hi')).listen(Number(process.env.PORT), () => process.stdout.write('up\n'));
