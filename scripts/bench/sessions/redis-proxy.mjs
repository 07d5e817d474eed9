// Part D's round-trip counter: a TCP pass-through between one shoal host and
// Redis, on 127.0.0.1, that reads the commands the host sends (RESP arrays of
// bulk strings, as every client sends them) and counts round trips.
//
// A "flight" is what a client sends between two replies: on each connection,
// client bytes that arrive after the server has answered something open a new
// flight; client bytes that arrive before any answer belong to the same one
// (the client did not wait). A session write batch is the merges (EVALSHA, or
// EVAL the first time on a connection, on a session key) up to and including
// the log entry that ends it (the same, on the `<prefix>log` key: the log
// script appends and numbers the entry); its round trips are the flights its
// commands were sent in. Caveat: a batch bigger than a socket buffer (~64 KiB) could see
// Redis answer its first commands before its last ones arrive, which this
// would count as two flights though the client never waited; the batches
// here are a few KiB.
import net from 'node:net';

const SCRIPT = new Set(['EVALSHA', 'EVAL']);
/** A script call's first key (EVAL[SHA] script numkeys key …) names the log: the batch's last command. */
const isLogKey = (key) => typeof key === 'string' && key.endsWith('log');

/** Incremental parser of client requests: calls onCommand(NAME, firstArgs) for each complete command (its first 3 arguments). */
function requestParser(onCommand) {
  let buf = Buffer.alloc(0);
  // State of the command being read: bulks left, the name once read, its first arguments, bytes to skip.
  let left = 0;
  let name = null;
  let argv = [];
  let bulkLen = -1;
  return (chunk) => {
    buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
    let at = 0;
    for (;;) {
      if (bulkLen >= 0) {
        // Inside a bulk: need bulkLen bytes + CRLF.
        if (buf.length - at < bulkLen + 2) break;
        if (name === null) name = buf.toString('latin1', at, at + bulkLen).toUpperCase();
        else if (argv.length < 3) argv.push(buf.toString('latin1', at, at + bulkLen));
        at += bulkLen + 2;
        bulkLen = -1;
        if (--left === 0) { onCommand(name, argv); name = null; argv = []; }
        continue;
      }
      const start = at;
      const eol = buf.indexOf('\r\n', at, 'latin1');
      if (eol < 0) break;
      const type = buf[start];
      const n = Number(buf.toString('latin1', start + 1, eol));
      at = eol + 2;
      if (left === 0) {
        if (type === 0x2a /* * */) {
          left = n;
          name = null;
          argv = [];
          if (left <= 0) { left = 0; onCommand('(empty)', []); }
        } else {
          // An inline command (telnet style): the first word is the name.
          onCommand(buf.toString('latin1', start, eol).trim().split(/\s+/)[0].toUpperCase() || '(inline)', []);
        }
      } else if (type === 0x24 /* $ */) {
        bulkLen = n;
      } else {
        throw new Error(`unexpected RESP type ${String.fromCharCode(type)} in a request`);
      }
    }
    buf = at >= buf.length ? Buffer.alloc(0) : buf.subarray(at);
  };
}

/**
 * Starts the proxy on a free port of 127.0.0.1, forwarding to 127.0.0.1:targetPort.
 * Returns { port, stats(), reset(), close() }.
 */
export async function startRedisProxy(targetPort) {
  const conns = new Set();
  let totals;
  const reset = () => {
    totals = {
      flights: 0, // every flight on every connection
      writeFlights: 0, // flights that carried a merge or a log entry
      batches: 0, // log entries: one per batch
      merges: 0, // EVALSHA / EVAL of the merge script in batches
      evals: 0, // of which EVAL (the script sent whole: first use on a connection, or after NOSCRIPT)
      spans: {}, // flights a batch spanned -> batches
      maxSessionsPerBatch: 0,
      commands: {}, // every command name -> count
      parseErrors: 0,
    };
    for (const c of conns) { c.batchFlights = new Set(); c.batchMerges = 0; c.flightHasWrite = false; }
  };
  reset();

  const server = net.createServer((client) => {
    client.setNoDelay(true);
    const upstream = net.connect({ host: '127.0.0.1', port: targetPort });
    upstream.setNoDelay(true);
    const c = { flight: 0, answered: true, batchFlights: new Set(), batchMerges: 0, flightHasWrite: false };
    conns.add(c);
    const parse = requestParser((name, argv) => {
      const logEntry = SCRIPT.has(name) && isLogKey(argv[2]);
      const label = logEntry ? `${name} (log)` : name;
      totals.commands[label] = (totals.commands[label] ?? 0) + 1;
      if (SCRIPT.has(name)) {
        c.batchFlights.add(c.flight);
        if (!c.flightHasWrite) { c.flightHasWrite = true; totals.writeFlights++; }
      }
      if (name === 'EVAL') totals.evals++;
      if (SCRIPT.has(name) && !logEntry) {
        totals.merges++;
        c.batchMerges++;
      } else if (logEntry) {
        totals.batches++;
        const span = c.batchFlights.size;
        totals.spans[span] = (totals.spans[span] ?? 0) + 1;
        totals.maxSessionsPerBatch = Math.max(totals.maxSessionsPerBatch, c.batchMerges);
        c.batchFlights = new Set();
        c.batchMerges = 0;
      }
    });
    client.on('data', (chunk) => {
      if (c.answered) { c.flight++; c.answered = false; c.flightHasWrite = false; totals.flights++; }
      try { parse(chunk); } catch { totals.parseErrors++; }
      if (!upstream.write(chunk)) client.pause();
    });
    upstream.on('drain', () => client.resume());
    upstream.on('data', (chunk) => {
      c.answered = true;
      if (!client.write(chunk)) upstream.pause();
    });
    client.on('drain', () => upstream.resume());
    const end = () => { conns.delete(c); client.destroy(); upstream.destroy(); };
    client.on('error', end);
    upstream.on('error', end);
    client.on('close', end);
    upstream.on('close', end);
  });
  const sockets = new Set();
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return {
    port: server.address().port,
    reset,
    stats: () => ({ ...JSON.parse(JSON.stringify(totals)), connections: conns.size }),
    close: () => new Promise((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}
