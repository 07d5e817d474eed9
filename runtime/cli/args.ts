/**
 * Argument parsing for the `shoal` command: small and strict. Every flag is
 * declared once with its type; anything else is a usage error naming the flag.
 */
import { ShoalError } from '../errors.js';

export type FlagType = 'string' | 'boolean';
export interface FlagSpec { readonly type: FlagType; readonly alias?: string; readonly what?: string }

export interface Parsed {
  readonly command: string | undefined;
  readonly positionals: string[];
  readonly flags: Record<string, string | boolean>;
  /** Everything after `--`, passed to the app. */
  readonly rest: string[];
}

export const GLOBAL_FLAGS: Record<string, FlagSpec> = {
  help: { type: 'boolean', alias: 'h' },
  version: { type: 'boolean', alias: 'v' },
  verbose: { type: 'boolean' },
};

export const CONTROL_FLAGS: Record<string, FlagSpec> = {
  ...GLOBAL_FLAGS,
  name: { type: 'string', alias: 'n', what: 'a cluster name' },
  json: { type: 'boolean' },
};
export const STATUS_FLAGS: Record<string, FlagSpec> = { ...CONTROL_FLAGS, cluster: { type: 'boolean' }, watch: { type: 'boolean' } };
/** As tail's: -n is the number of lines, so the cluster's name has no short form here. */
export const LOGS_FLAGS: Record<string, FlagSpec> = {
  ...GLOBAL_FLAGS,
  name: { type: 'string', what: 'a cluster name' },
  json: { type: 'boolean' },
  lines: { type: 'string', alias: 'n', what: 'a number of lines' },
  follow: { type: 'boolean', alias: 'f' },
  worker: { type: 'string', what: "a worker id, as 'shoal status' shows it" },
};
export const RELOAD_FLAGS: Record<string, FlagSpec> = { ...CONTROL_FLAGS, parallel: { type: 'string', what: 'how many workers to replace at once' } };

export const NEW_FLAGS: Record<string, FlagSpec> = {
  ...GLOBAL_FLAGS,
  force: { type: 'boolean', alias: 'f' },
  'no-install': { type: 'boolean' },
  'shoal-spec': { type: 'string', what: 'an npm dependency spec for shoal, e.g. ^0.2.0 or file:../shoal' },
};

export const START_FLAGS: Record<string, FlagSpec> = {
  ...GLOBAL_FLAGS,
  workers: { type: 'string', alias: 'w', what: 'a number of workers, or "max"' },
  port: { type: 'string', alias: 'p', what: 'a port number' },
  host: { type: 'string', what: 'an address to bind, e.g. 127.0.0.1 or ::' },
  balancer: { type: 'string', alias: 'b', what: 'a balancer name' },
  accept: { type: 'string', what: 'kernel or handoff' },
  weights: { type: 'string', what: 'a weight per slot, e.g. 3,1,1' },
  name: { type: 'string', alias: 'n', what: 'a cluster name' },
  config: { type: 'string', what: 'a path to a shoal.config.json' },
  'wait-ready': { type: 'boolean' },
  'stop-timeout': { type: 'string', what: 'milliseconds' },
  'shutdown-delay': { type: 'string', what: 'milliseconds' },
  agent: { type: 'string', what: '[HOST:]PORT, e.g. 9091 or 0.0.0.0:9091' },
  'ready-timeout': { type: 'string', what: 'milliseconds' },
  'hang-timeout': { type: 'string', what: 'milliseconds' },
  'hang-grace': { type: 'string', what: 'milliseconds' },
  'max-memory': { type: 'string', what: 'a size such as 512M or 1G' },
  'max-sessions': { type: 'string', what: 'a number of sessions such as 100000' },
  'max-session-memory': { type: 'string', what: 'a size such as 64M' },
  redis: { type: 'string', what: 'a URL such as redis://127.0.0.1:6379' },
  'redis-prefix': { type: 'string', what: 'a key prefix such as shop:' },
  sessions: { type: 'string', what: 'replicated or distributed' },
  'redis-cluster': { type: 'boolean' },
  'redis-queue-max': { type: 'string', what: 'a number of sessions such as 100000' },
  'redis-queue-memory': { type: 'string', what: 'a size such as 64M' },
  'queue-timeout': { type: 'string', what: 'milliseconds' },
  admin: { type: 'string', what: '[HOST:]PORT, e.g. 9090 or 127.0.0.1:9090' },
  'admin-token': { type: 'string', what: 'a token of at least 16 characters (SHOAL_ADMIN_TOKEN keeps it out of ps)' },
  'scrape-timeout': { type: 'string', what: 'milliseconds' },
  'log-prefix': { type: 'boolean' },
  'log-lines': { type: 'string', what: 'a number of lines such as 1000' },
  'log-memory': { type: 'string', what: 'a size such as 1M' },
};

/** Every command with its flags; `help` takes a command name (`shoal help start`). */
export const COMMANDS: Record<string, Record<string, FlagSpec>> = {
  start: START_FLAGS, status: STATUS_FLAGS, stop: CONTROL_FLAGS, scale: CONTROL_FLAGS, reload: RELOAD_FLAGS, logs: LOGS_FLAGS, new: NEW_FLAGS, help: GLOBAL_FLAGS,
};

/** The flags of `command` (the global ones before it); an unknown command is refused before its flags are read. */
export function flagsFor(command: string | undefined): Record<string, FlagSpec> {
  if (command === undefined) return GLOBAL_FLAGS;
  const spec = COMMANDS[command];
  if (spec === undefined) throw new ShoalError('SHOAL_ERR_UNKNOWN_COMMAND', command, Object.keys(COMMANDS).filter((c) => c !== 'help').join(', '));
  return spec;
}

export function parseArgs(argv: readonly string[], specFor: (command: string | undefined) => Record<string, FlagSpec>): Parsed {
  const positionals: string[] = [];
  const flags: Record<string, string | boolean> = {};
  const rest: string[] = [];
  let command: string | undefined;
  let spec = specFor(undefined);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') { rest.push(...argv.slice(i + 1)); break; }
    if (a.startsWith('-') && a !== '-' && !/^-\d+$/.test(a)) {
      const eq = a.indexOf('=');
      const rawName = a.startsWith('--') ? a.slice(2, eq > 0 ? eq : undefined) : a.slice(1, eq > 0 ? eq : undefined);
      const name = a.startsWith('--') ? rawName : Object.keys(spec).find((k) => spec[k]!.alias === rawName);
      const f = name === undefined ? undefined : spec[name];
      if (name === undefined || f === undefined) throw new ShoalError('SHOAL_ERR_UNKNOWN_FLAG', eq > 0 ? a.slice(0, eq) : a, command ?? '');
      if (f.type === 'boolean') {
        if (eq > 0) throw new ShoalError('SHOAL_ERR_BAD_VALUE', `--${name}`, a.slice(eq + 1), 'no value (it is a switch)');
        flags[name] = true;
        continue;
      }
      let value: string | undefined;
      if (eq > 0) value = a.slice(eq + 1);
      else if (i + 1 < argv.length && !argv[i + 1]!.startsWith('--')) value = argv[++i];
      if (value === undefined || value === '') throw new ShoalError('SHOAL_ERR_MISSING_VALUE', `--${name}`, f.what ?? 'a value');
      flags[name] = value;
      continue;
    }
    if (command === undefined) { command = a; spec = specFor(command); continue; }
    positionals.push(a);
  }
  return { command, positionals, flags, rest };
}
