// node:cluster contender: forks N workers of the app.
//   node cluster-launcher.mjs <app> <workers> <rr|none>
// Prints "ready" on stdout once every worker is listening, so the harness does
// not have to guess. Re-forks a worker that dies (as PM2 and shoal do), and on
// SIGTERM/SIGINT stops all workers and exits.
import cluster from 'node:cluster';

const [app, workersArg = '2', policy = 'rr'] = process.argv.slice(2);
const workers = Number(workersArg);
if (!app || !(workers > 0)) {
  console.error('usage: cluster-launcher.mjs <app> <workers> <rr|none>');
  process.exit(2);
}

// Must be set before setupPrimary(): node freezes the policy there.
cluster.schedulingPolicy = policy === 'none' ? cluster.SCHED_NONE : cluster.SCHED_RR;
cluster.setupPrimary({ exec: app });

let listening = 0;
let stopping = false;
cluster.on('listening', () => {
  if (++listening === workers) process.stdout.write('ready\n');
});
cluster.on('exit', (w, code, signal) => {
  if (stopping) {
    if (Object.keys(cluster.workers).length === 0) process.exit(0);
    return;
  }
  console.error(`worker ${w.id} exited (code ${code}, signal ${signal}); re-forking`);
  cluster.fork();
});
for (let i = 0; i < workers; i++) cluster.fork();

function stop(sig) {
  if (stopping) return;
  stopping = true;
  // Said, so that a stop nobody in the harness asked for shows up in its error message.
  console.error(`cluster-launcher: ${sig}, stopping the workers`);
  for (const w of Object.values(cluster.workers)) w.process.kill('SIGTERM');
  if (Object.keys(cluster.workers).length === 0) process.exit(0);
  // The harness SIGKILLs the process group anyway; this just bounds our own wait.
  setTimeout(() => process.exit(0), 3000).unref();
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
