// The job loop of a forked load-generator process: the parent sends
// { id, kind, opts }, we run JOBS[kind](opts) and answer { id, result } or
// { id, error }. Shared by loadgen.mjs and sessions/load.mjs.
export function serveJobs(jobs) {
  process.on('message', async ({ id, kind, opts }) => {
    try {
      const fn = jobs[kind];
      if (!fn) throw new Error(`unknown job kind ${kind}`);
      process.send({ id, result: await fn(opts) });
    } catch (e) {
      process.send({ id, error: String(e?.stack ?? e) });
    }
  });
  process.on('disconnect', () => process.exit(0));
  process.send({ ready: true });
}
