/**
 * One registry of every error shoal raises on purpose, with stable codes
 * (as fastify does). Codes are part of the public contract: test/unit/errors.test.ts
 * pins them, so renaming one is a breaking change that the test catches.
 *
 * `usage: true` marks errors caused by how shoal was invoked; the CLI exits 2 on those.
 */

interface ErrorSpec {
  readonly message: (...args: string[]) => string;
  readonly usage: boolean;
}

const spec = (usage: boolean, message: (...args: string[]) => string): ErrorSpec => ({ usage, message });

export const ERRORS = {
  SHOAL_ERR_UNKNOWN_FLAG: spec(true, (flag, command) => `unknown option ${flag}; run 'shoal ${command ? `${command} ` : ''}--help' for the list of options`),
  SHOAL_ERR_MISSING_VALUE: spec(true, (flag, what) => `option ${flag} needs a value (${what})`),
  SHOAL_ERR_BAD_VALUE: spec(true, (flag, value, what) => `invalid value '${value}' for ${flag}: expected ${what}`),
  SHOAL_ERR_UNKNOWN_COMMAND: spec(true, (cmd, list) => `unknown command '${cmd}'; commands: ${list} (see 'shoal --help')`),
  SHOAL_ERR_MISSING_ENTRY: spec(true, () => `missing the app entry file: run 'shoal start <entry>', e.g. 'shoal start app.js'`),
  SHOAL_ERR_ENTRY_NOT_FOUND: spec(true, (path) => `entry file not found: ${path}; check the path (it is resolved from the current folder)`),
  SHOAL_ERR_ENTRY_UNREADABLE: spec(true, (path, why) => `entry file cannot be read: ${path} (${why}); check its permissions`),
  SHOAL_ERR_UNKNOWN_BALANCER: spec(true, (name, list) => `unknown balancer '${name}'; choose one of: ${list}`),
  SHOAL_ERR_BAD_CONFIG: spec(true, (path, why) => `config file ${path} is invalid: ${why}`),
  SHOAL_ERR_CONFIG_NOT_FOUND: spec(true, (path) => `config file not found: ${path}; check the path given to --config (it is resolved from the current folder), or leave --config out to use ./shoal.config.json when there is one`),
  SHOAL_ERR_PORT_IN_USE: spec(true, (addr) => `port ${addr} is already in use; stop what listens there or pick another with --port`),
  SHOAL_ERR_PORT_DENIED: spec(true, (addr) => `not permitted to listen on ${addr}; ports below 1024 need privileges, pick another with --port`),
  SHOAL_ERR_ADMIN_NO_TOKEN: spec(true, (addr) => `--admin ${addr} is reachable from the network, and without a token anyone there could read the cluster's state; set a token (SHOAL_ADMIN_TOKEN, or "adminToken" in shoal.config.json: --admin-token shows in ps) of at least 16 random characters, or bind the loopback (--admin 127.0.0.1:PORT)`),
  SHOAL_ERR_ADMIN_PORT_IN_USE: spec(true, (addr) => `admin port ${addr} is already in use; stop what listens there or pick another with --admin [HOST:]PORT`),
  SHOAL_ERR_ADMIN_LISTEN: spec(true, (addr, why) => `cannot serve the admin port on ${addr}: ${why}; pick another with --admin [HOST:]PORT`),
  SHOAL_ERR_AGENT_LISTEN: spec(true, (addr, why) => `cannot serve the HAProxy agent on ${addr}: ${why}; pick another with --agent [HOST:]PORT`),
  SHOAL_ERR_ACTIVATION: spec(false, (why) => `the socket passed by socket activation (LISTEN_FDS) cannot be served: ${why}; give the .socket unit a TCP ListenStream=`),
  SHOAL_ERR_LISTEN: spec(false, (addr, why) => `cannot listen on ${addr}: ${why}`),
  SHOAL_ERR_WORKER_STARTUP: spec(false, (why) => `the app failed to start: ${why}`),
  SHOAL_ERR_CRASH_LOOP: spec(false, (id, n, why) => `worker slot ${id} crashed ${n} times in a row during start-up; giving up on it. Last error: ${why}`),
  SHOAL_ERR_PORT_MISMATCH: spec(true, (app, served) => `the app listens on port ${app}, but shoal serves port ${served} (given by --port, PORT or the config file); make the app listen on process.env.PORT, or start shoal without a port to serve the one the app asks for`),
  SHOAL_ERR_NOT_LISTENING: spec(false, (port, other) => `the app never listened on port ${port}${other}; make it call listen(process.env.PORT)`),
  SHOAL_ERR_READY_TIMEOUT: spec(false, (ms) => `the worker did not become ready within ${ms} ms`),
  SHOAL_ERR_NAME_IN_USE: spec(true, (name) => `a cluster named '${name}' is already running; stop it or pick another name with --name`),
  SHOAL_ERR_NO_CLUSTER: spec(false, (name, dir, running) => (name
    ? `no shoal cluster named '${name}' is running (no control socket ${name}.sock in ${dir}); ${running ? `running: ${running}, pick one with --name` : `start it with 'shoal start <entry> --name ${name}'`}`
    : `no shoal cluster is running (no control socket in ${dir}); start one with 'shoal start <entry>'`)),
  SHOAL_ERR_AMBIGUOUS_CLUSTER: spec(true, (names) => `several shoal clusters are running (${names}); pick one with --name`),
  SHOAL_ERR_UNKNOWN_WORKER: spec(true, (id, known) => `no lines of worker ${id} are kept in this cluster (workers with lines: ${known}); 'shoal status' shows the running workers' ids`),
  SHOAL_ERR_CLUSTER_STOPPED: spec(false, (name) => `the cluster '${name}' stopped`),
  SHOAL_ERR_CONTROL_LOST: spec(false, (name) => `the cluster '${name}' closed the control connection before answering`),
  SHOAL_ERR_CONTROL_BAD_REQUEST: spec(false, (why) => `bad control request: ${why}`),
  SHOAL_ERR_INTERNAL: spec(false, (why) => `internal error: ${why}`),
  SHOAL_ERR_RELOAD_FAILED: spec(false, (why) => `reload stopped, the old workers keep serving: ${why}`),
  SHOAL_ERR_BUSY: spec(false, (what) => `${what} is already in progress; try again when it is done`),
  SHOAL_ERR_MISSING_DIR: spec(true, () => `missing the new app's folder: run 'shoal new <dir>', e.g. 'shoal new my-app'`),
  SHOAL_ERR_DIR_NOT_EMPTY: spec(true, (dir, holds) => `${dir} is not empty (it holds ${holds}); pick a new folder, or add --force to write the app into it (files of the same name are replaced)`),
  SHOAL_ERR_APP_NAME: spec(true, (name, why) => `'${name}' cannot name the app (the folder's name becomes its package name): ${why}`),
  SHOAL_ERR_INSTALL_FAILED: spec(false, (what, why) => `${what} failed: ${why}`),
  SHOAL_ERR_NO_REDIS: spec(false, () => `this cluster does not use Redis, so it knows no other hosts; start it with --redis URL to share sessions and list hosts`),
  SHOAL_ERR_SESSION_TOO_LARGE: spec(false, (id, size, limit) => `session ${id} would grow to ${size} bytes, over the limit of ${limit} bytes per session; keep large data elsewhere (store its key in the session) or raise the limit with the maxSessionBytes option`),
  SHOAL_ERR_SESSION_SECRET: spec(true, (why) => `invalid session secret: ${why}; use random strings of at least 32 characters (e.g. 'openssl rand -base64 48'), the first one signs and the others are still accepted during a rotation`),
  SHOAL_ERR_SESSION_VALUE: spec(false, (key, why) => `session attribute '${key}' cannot be stored: ${why}; session values must be JSON (objects, arrays, strings, finite numbers, booleans, null)`),
  SHOAL_ERR_SESSION_UNREPLICATED: spec(false, (ms) => `the primary did not acknowledge a session change within ${ms} ms, so other workers may not see it yet; the primary is overloaded or stopping (check 'shoal status')`),
  SHOAL_ERR_SESSION_OPTIONS: spec(false, (what, value, expected) => `invalid session option ${what}: ${value}; expected ${expected}`),
  SHOAL_ERR_CLOCK_DRIFT: spec(false, (node, ahead, limit) => `a timestamp from node ${node} is ${ahead} ms ahead of this host's clock (limit ${limit} ms); synchronise the hosts' clocks (NTP) or raise maxDriftMs`),
} as const satisfies Record<string, ErrorSpec>;

export type ShoalErrorCode = keyof typeof ERRORS;

/**
 * Where the app's own code failed (see control/app-site.ts): file and line,
 * the app's first stack frame, and the source line with node's caret under
 * it, each when known.
 */
export interface AppSite {
  readonly file: string;
  readonly line: number;
  readonly column?: number;
  readonly frame?: string;
  readonly source?: readonly string[];
}

export class ShoalError extends Error {
  readonly code: ShoalErrorCode;
  readonly usage: boolean;
  /** Set when the error comes from the app's code (a worker that failed to start); a control reply carries it. */
  app: AppSite | undefined;
  constructor(code: ShoalErrorCode, ...args: string[]) {
    const s: ErrorSpec = ERRORS[code];
    super(s.message(...args));
    this.name = 'ShoalError';
    this.code = code;
    this.usage = s.usage;
  }

  withApp(app: AppSite | undefined): this {
    this.app = app;
    return this;
  }
}

export const isShoalError = (e: unknown): e is ShoalError => e instanceof ShoalError;
