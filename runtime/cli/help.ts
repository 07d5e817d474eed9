/**
 * `shoal --help` (the overview) and `shoal <command> --help` (that command's
 * usage and options only). The environment lists name every variable shoal
 * reads (test/unit/help.test.ts checks them against the code and the README).
 */
import { ShoalError } from '../errors.js';

const START_ENV = `Environment, for start (flags win over it, and it wins over shoal.config.json):
  PORT, SHOAL_WORKERS, SHOAL_BALANCER, SHOAL_ACCEPT, SHOAL_WEIGHTS, SHOAL_HOST, SHOAL_NAME, SHOAL_MAX_MEMORY,
  SHOAL_MAX_SESSIONS, SHOAL_MAX_SESSION_MEMORY, SHOAL_REDIS_URL, SHOAL_REDIS_PREFIX,
  SHOAL_REDIS_CLUSTER=1, SHOAL_REDIS_QUEUE_MAX, SHOAL_REDIS_QUEUE_MEMORY, SHOAL_SESSIONS,
  SHOAL_ADMIN, SHOAL_ADMIN_TOKEN, SHOAL_AGENT, SHOAL_SHUTDOWN_DELAY
                        each as the flag of that name (SHOAL_REDIS_URL is --redis)
  SHOAL_LOG_PREFIX      1: tag each line of app output with its worker off a terminal too
                        (as --log-prefix); 0: never, not even on a terminal
  SHOAL_LOG_LEVEL       the primary's log level (default info; --verbose makes it debug)
  NO_COLOR              no colours in the primary's log on a terminal
  LISTEN_PID, LISTEN_FDS, LISTEN_FDNAMES
                        socket activation (systemd): the passed socket (fd 3) is served
                        instead of the port; removed before the workers start
`;

const RUNTIME_ENV = `  SHOAL_RUNTIME_DIR     the folder of the control sockets, for start and the control
                        commands alike (default $XDG_RUNTIME_DIR/shoal, else <tmpdir>/shoal-<uid>)
`;

const SIGNALS = `
Signals to the primary: SIGTERM/SIGINT stop gracefully, after the shutdown delay if set (a
second one ends the delay; one after that, or a second one without a delay, stops at once);
SIGHUP reloads.
`;

const OVERVIEW = `shoal: a self-balancing cluster runtime for Node.js web apps

Usage:
  shoal start <entry> [options] [-- app args]   run <entry> clustered
  shoal status [--cluster] [--watch] [--json] [--name N]
                                                workers, load and state of a running cluster
  shoal logs [-n LINES] [-f] [--worker ID] [--json] [--name N]
                                                the workers' last lines of output; -f follows
  shoal reload [--parallel K] [--json] [--name N]
                                                replace every worker, without failing a request
  shoal scale N|+N|-N [--json] [--name N]       change the number of workers
  shoal stop [--json] [--name N]                stop gracefully; returns when done
  shoal new <dir> [--no-install] [--force]      create a ready app in <dir> (fastify, sessions, tests)
  shoal --help | --version

'shoal <command> --help' (or 'shoal help <command>') shows a command's options.
Control commands (status, logs, reload, scale, stop) find the cluster by --name, or the only one running.

${START_ENV}${RUNTIME_ENV}${SIGNALS}`;

const HELP_FLAG = '  -h, --help            this help\n';

const COMMON_OPTIONS = `      --json            print JSON: the reply, or for any failure {"ok":false,"error":{"code","message"}}
      --verbose         stack traces on errors
${HELP_FLAG}
Environment:
${RUNTIME_ENV}`;

const CONTROL_OPTIONS = `  -n, --name NAME       the cluster (default: the only one running)
${COMMON_OPTIONS}`;

const START = `Usage: shoal start <entry> [options] [-- app args]

Runs <entry> (JavaScript, or TypeScript through tsx) clustered: this process, the
primary, owns the port; worker processes run the app and take its connections.

Options:
  -w, --workers N|max   worker processes (default: the CPUs this process may use, cgroup-aware)
  -p, --port P          port to serve (default: $PORT, else the port the app listens on; 3000
                        when it names none)
      --host H          address to bind (default: all interfaces)
  -b, --balancer NAME   least-conn (default), round-robin, weighted-round-robin, ip-hash, least-load
      --weights W,W,..  a weight per slot (slots past the list weigh 1): weighted-round-robin,
                        least-conn and least-load give a slot of weight 3 three times the share
      --accept MODE     kernel: workers accept from the shared socket, gated by load (default for
                        least-conn and least-load); handoff: the primary accepts and hands each
                        connection over (the others' only mode)
  -n, --name NAME       cluster name (default: the config's name or the entry's folder name,
                        with -<port> appended when a running cluster has it)
      --config FILE     options file (default: ./shoal.config.json when present)
      --wait-ready      a worker takes traffic only after the app calls ready() from 'shoal'
      --stop-timeout MS how long workers may finish in-flight requests on stop (default 10000)
      --shutdown-delay MS  on stop, first keep serving this long while /readyz fails and the
                        agent answers drain, so balancers stop sending (default 0 on a terminal
                        or without --admin/--agent, else 5000)
      --agent [HOST:]PORT  answer HAProxy's agent-check there: 'up ready N%' with N following
                        the host's headroom, 'drain' while stopping or no worker is ready
                        (default host 127.0.0.1; it tells only a weight, so any host may be given)
      --ready-timeout MS how long a new worker may take to listen (default 30000)
      --max-memory SIZE a worker above this resident memory (e.g. 512M) is replaced gracefully
      --hang-timeout MS a worker silent this long (blocked event loop) leaves rotation (default 3000)
      --hang-grace MS   and is killed and replaced if still silent this much later (default 5000)
      --queue-timeout MS how long an accepted connection may wait for a worker (default 10000)
      --max-sessions N  sessions kept in memory per host, least recently used dropped beyond (default 100000)
      --max-session-memory SIZE  session data kept in memory per copy (default 64M)
      --redis URL       share sessions with other hosts through Redis (redis:// or rediss://)
      --redis-prefix P  prefix of every Redis key (default shoal:); one per app
      --redis-cluster   the --redis URL is a node of a Redis Cluster
      --redis-queue-max N  sessions whose changes may wait while Redis is away (default 100000)
      --redis-queue-memory SIZE  and their size (default 64M); past either, the queue is dropped
                        and this host re-seeds Redis with all its sessions when Redis is back
      --sessions MODE   with --redis: replicated (default: every host holds every session) or
                        distributed (Redis is the store; hosts cache, bounded by --max-sessions)
      --admin [HOST:]PORT  serve /metrics, /livez, /readyz and /status over HTTP (default host
                        127.0.0.1; another host needs a token); off by default
      --admin-token T   every admin request but /livez and /readyz must send 'Authorization:
                        Bearer T' (16+ characters; prefer SHOAL_ADMIN_TOKEN or the config file:
                        a flag shows in ps)
      --scrape-timeout MS  how long /metrics waits for each worker's metrics (default 500)
      --log-prefix      tag each line of app output with its worker ([w3] , [w3 err] ) off a
                        terminal too (on one it always is); off one, lines pass unchanged
      --log-lines N     lines of output kept per worker for 'shoal logs' (default 1000)
      --log-memory SIZE and their size per worker (default 1M); the last 5 exited workers' are kept too
      --verbose         debug logs, and stack traces on errors
${HELP_FLAG}
${START_ENV}${RUNTIME_ENV}${SIGNALS}`;

const STATUS = `Usage: shoal status [--cluster] [--watch] [--json] [--name N]

Shows the primary (pid, uptime, balancer, port, queued connections, sessions, Redis) and
each worker (slot, id, pid, state, uptime, restarts, connections, in-flight requests,
requests/s, event-loop utilisation, memory, sessions, replication lag).

Options:
      --cluster         also every host sharing this cluster's Redis
      --watch           again every second until Ctrl-C: redrawn in place on a terminal,
                        one table after another (a blank line between) elsewhere, one JSON
                        reply per line with --json; exits 1 if the cluster stops
${CONTROL_OPTIONS}`;

const LOGS = `Usage: shoal logs [-n LINES] [-f] [--worker ID] [--json] [--name N]

Prints the last lines of the workers' stdout and stderr that the primary keeps (per worker,
and for the last exited workers), oldest first, each tagged with its time (UTC), worker and
stream:  12:00:01.123 w3 stderr | the line

Options:
  -n, --lines LINES     how many lines (default 100; 0 with -f: only new ones)
  -f, --follow          then print new lines as they come, until Ctrl-C (exit 130)
      --worker ID       only this worker's lines (its id, as status shows it: 3 or w3)
      --name NAME       the cluster (default: the only one running)
${COMMON_OPTIONS}`;

const RELOAD = `Usage: shoal reload [--parallel K] [--json] [--name N]

Replaces every worker with one running the code now on disk, without failing a request:
starts the new worker, waits until it is ready, then drains the old one. If a new worker
fails to start, the reload stops there and the old workers keep serving. SIGHUP to the
primary does the same.

Options:
      --parallel K      replace K workers at once (default 1)
${CONTROL_OPTIONS}`;

const SCALE = `Usage: shoal scale N|+N|-N [--json] [--name N]

Sets the number of workers to N, or adds or removes some: new workers take traffic once
ready, removed ones drain first. Past twice the CPUs it warns, and does it.

Options:
${CONTROL_OPTIONS}`;

const STOP = `Usage: shoal stop [--json] [--name N]

Stops the cluster gracefully, as SIGTERM does: after its --shutdown-delay, if set (it
serves meanwhile, not ready; a second 'shoal stop' ends the delay), no new connections,
workers finish their in-flight requests (up to the cluster's --stop-timeout). Returns once
it has stopped.

Options:
${CONTROL_OPTIONS}`;

const NEW = `Usage: shoal new <dir> [--no-install] [--force] [--shoal-spec SPEC]

Writes a ready app into <dir>: fastify in TypeScript, sessions, tests, and a start script
that runs it clustered; then runs npm install there.

Options:
      --no-install      write the app without running npm install
  -f, --force           write into a folder that is not empty (files of the same name are replaced)
      --shoal-spec SPEC the app's shoal dependency as package.json gets it, e.g. ^0.2.0 or
                        file:../shoal (relative to the app); default: a copy of this shoal
                        packed into the app's vendor/ folder
      --verbose         stack traces on errors
${HELP_FLAG}`;

const BY_COMMAND: Record<string, string> = { start: START, status: STATUS, logs: LOGS, reload: RELOAD, scale: SCALE, stop: STOP, new: NEW };

/** The overview without a command, else that command's help; an unknown command is a usage error. */
export function helpFor(command?: string): string {
  if (command === undefined) return OVERVIEW;
  const text = BY_COMMAND[command];
  if (text === undefined) throw new ShoalError('SHOAL_ERR_UNKNOWN_COMMAND', command, Object.keys(BY_COMMAND).join(', '));
  return text;
}
