/**
 * Where start options come from, strongest first: command-line flags,
 * environment (PORT and the SHOAL_* names passed to str() below; help.ts and
 * the README list them, test/unit/help.test.ts keeps them in step),
 * shoal.config.json, defaults.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ShoalError } from '../errors.js';
import { availableCpus } from '../cpus.js';
import { ACCEPT_MODES, DEFAULTS, MAX_WEIGHT, resolveOptions, type ShoalOptions } from '../options.js';
import type { Parsed } from './args.js';
import { parseAdminAddress } from '../admin/address.js';

const CONFIG_KEYS = ['workers', 'port', 'host', 'balancer', 'accept', 'weights', 'name', 'waitReady', 'stopTimeout', 'shutdownDelay', 'agent', 'readyTimeout', 'hangTimeout', 'hangGrace', 'maxMemory', 'queueTimeout', 'maxSessions', 'maxSessionMemory', 'redis', 'redisPrefix', 'redisOptions', 'redisCluster', 'redisQueueMax', 'redisQueueMemory', 'sessions', 'admin', 'adminToken', 'scrapeTimeout', 'logPrefix', 'logLines', 'logMemory'] as const;
type ConfigFile = Partial<Record<Exclude<(typeof CONFIG_KEYS)[number], 'redisOptions'>, string | number | boolean | readonly number[]>> & { redisOptions?: Record<string, unknown> };

export function readConfigFile(file: string, required: boolean): ConfigFile {
  let text: string;
  try { text = fs.readFileSync(file, 'utf8'); } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      if (!required) return {};
      throw new ShoalError('SHOAL_ERR_CONFIG_NOT_FOUND', file);
    }
    throw new ShoalError('SHOAL_ERR_BAD_CONFIG', file, `it cannot be read (${code === 'EISDIR' ? 'it is a folder' : code ?? (e as Error).message}); give --config a readable JSON file`);
  }
  let data: unknown;
  try { data = JSON.parse(text); } catch (e) { throw new ShoalError('SHOAL_ERR_BAD_CONFIG', file, `not valid JSON (${(e as Error).message})`); }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new ShoalError('SHOAL_ERR_BAD_CONFIG', file, 'expected a JSON object');
  for (const k of Object.keys(data)) {
    if (!(CONFIG_KEYS as readonly string[]).includes(k) && k !== '$schema') {
      throw new ShoalError('SHOAL_ERR_BAD_CONFIG', file, `unknown key "${k}"; known keys: ${CONFIG_KEYS.join(', ')}`);
    }
  }
  return data as ConfigFile;
}

/** Parses a worker count: a whole number ≥ 1 or "max" (the CPUs this process may use). */
export function parseWorkers(v: string, flag = '--workers'): number {
  if (v === 'max') return availableCpus();
  if (!/^\d+$/.test(v) || Number(v) < 1) throw new ShoalError('SHOAL_ERR_BAD_VALUE', flag, v, 'a whole number of at least 1, or "max"');
  return Number(v);
}

export function parsePort(v: string, flag = '--port'): number {
  if (!/^\d+$/.test(v) || Number(v) > 65535) throw new ShoalError('SHOAL_ERR_BAD_VALUE', flag, v, 'a port number from 0 to 65535');
  return Number(v);
}

/** Parses a memory size: bytes, or a number with K, M or G (powers of 1024), e.g. 512M, 1.5G. */
export function parseSize(v: string, flag = '--max-memory'): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmg]?)i?b?$/i.exec(v.trim());
  if (!m) throw new ShoalError('SHOAL_ERR_BAD_VALUE', flag, v, 'a size such as 512M or 1G');
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g'];
  return Math.round(Number(m[1]) * mult);
}

/** `3,1,1` (or the config file's [3, 1, 1]): a whole number from 1 to MAX_WEIGHT per slot. */
export function parseWeights(v: string, flag: string): number[] {
  const parts = v.split(',').map((x) => x.trim());
  if (parts.some((x) => !/^\d+$/.test(x) || Number(x) < 1 || Number(x) > MAX_WEIGHT)) {
    throw new ShoalError('SHOAL_ERR_BAD_VALUE', flag, v, `a weight per slot, whole numbers from 1 to ${MAX_WEIGHT} separated by commas, e.g. 3,1,1`);
  }
  return parts.map(Number);
}

function parseCount(v: string, flag: string): number {
  if (!/^\d+$/.test(v) || Number(v) < 1) throw new ShoalError('SHOAL_ERR_BAD_VALUE', flag, v, 'a whole number of at least 1');
  return Number(v);
}

function parseMs(v: string, flag: string): number {
  if (!/^\d+$/.test(v)) throw new ShoalError('SHOAL_ERR_BAD_VALUE', flag, v, 'a whole number of milliseconds');
  return Number(v);
}

/**
 * Whether to tag app output with its worker: --log-prefix forces it, as does
 * SHOAL_LOG_PREFIX=1 (0 turns it off, on a terminal too), then the config
 * file's logPrefix; undefined leaves it to whether the output is a terminal.
 */
function logPrefix(flag: boolean, env: NodeJS.ProcessEnv, file: ConfigFile, configPath: string): boolean | undefined {
  if (flag) return true;
  const v = env.SHOAL_LOG_PREFIX;
  if (v !== undefined && v !== '') {
    if (v !== '0' && v !== '1') throw new ShoalError('SHOAL_ERR_BAD_VALUE', 'SHOAL_LOG_PREFIX', v, '1 (tag every line with its worker) or 0 (never)');
    return v === '1';
  }
  if (file.logPrefix !== undefined && typeof file.logPrefix !== 'boolean') throw new ShoalError('SHOAL_ERR_BAD_CONFIG', configPath, '"logPrefix" must be true or false');
  return file.logPrefix;
}

/** Checks the entry exists and is a readable file; returns its absolute path. */
export function checkEntry(entry: string | undefined, cwd: string): string {
  if (!entry) throw new ShoalError('SHOAL_ERR_MISSING_ENTRY');
  const abs = path.resolve(cwd, entry);
  let st: fs.Stats;
  try { st = fs.statSync(abs); } catch { throw new ShoalError('SHOAL_ERR_ENTRY_NOT_FOUND', abs); }
  if (!st.isFile()) throw new ShoalError('SHOAL_ERR_ENTRY_UNREADABLE', abs, 'it is not a file');
  try { fs.accessSync(abs, fs.constants.R_OK); } catch (e) {
    throw new ShoalError('SHOAL_ERR_ENTRY_UNREADABLE', abs, (e as NodeJS.ErrnoException).code ?? 'no read permission');
  }
  return abs;
}

/** Cluster name from the entry's folder: letters, digits, dot, dash and underscore. */
export function defaultName(entry: string): string {
  const base = path.basename(path.dirname(entry)).replace(/[^A-Za-z0-9._-]+/g, '-');
  return base || 'app';
}

/**
 * The shutdown delay when none is given: 0 on a terminal (Ctrl-C should stop
 * now) and when nothing can tell a balancer of the stop (no --admin, no
 * --agent); otherwise DEFAULTS.shutdownDelayServedMs.
 */
export function defaultShutdownDelay(terminal: boolean, observed: boolean): number {
  return terminal || !observed ? DEFAULTS.shutdownDelayMs : DEFAULTS.shutdownDelayServedMs;
}

export function startOptions(p: Parsed, env: NodeJS.ProcessEnv, cwd: string, terminal = process.stdin.isTTY === true): ShoalOptions {
  const f = p.flags;
  const configPath = typeof f.config === 'string' ? path.resolve(cwd, f.config) : path.join(cwd, 'shoal.config.json');
  const file = readConfigFile(configPath, typeof f.config === 'string');
  const str = (flag: string, envName: string | undefined, key: keyof ConfigFile): [string, string] | undefined => {
    if (typeof f[flag] === 'string') return [f[flag], `--${flag}`];
    if (envName && env[envName] !== undefined && env[envName] !== '') return [env[envName], envName];
    const v = file[key];
    return v === undefined ? undefined : [String(v), `${path.basename(configPath)} "${key}"`];
  };
  const entry = checkEntry(p.positionals[0], cwd);
  if (p.positionals.length > 1) throw new ShoalError('SHOAL_ERR_BAD_VALUE', 'start', p.positionals.slice(1).join(' '), "one entry file; pass app arguments after '--'");
  const workers = str('workers', 'SHOAL_WORKERS', 'workers');
  const port = str('port', 'PORT', 'port');
  const host = str('host', 'SHOAL_HOST', 'host');
  const balancer = str('balancer', 'SHOAL_BALANCER', 'balancer');
  const accept = str('accept', 'SHOAL_ACCEPT', 'accept');
  const weights = str('weights', 'SHOAL_WEIGHTS', 'weights');
  if (accept && !(ACCEPT_MODES as readonly string[]).includes(accept[0])) throw new ShoalError('SHOAL_ERR_BAD_VALUE', accept[1], accept[0], 'kernel or handoff');
  const name = str('name', 'SHOAL_NAME', 'name');
  const stopTimeout = str('stop-timeout', undefined, 'stopTimeout');
  const shutdownDelay = str('shutdown-delay', 'SHOAL_SHUTDOWN_DELAY', 'shutdownDelay');
  const agent = str('agent', 'SHOAL_AGENT', 'agent');
  const readyTimeout = str('ready-timeout', undefined, 'readyTimeout');
  const hangTimeout = str('hang-timeout', undefined, 'hangTimeout');
  const hangGrace = str('hang-grace', undefined, 'hangGrace');
  const maxMemory = str('max-memory', 'SHOAL_MAX_MEMORY', 'maxMemory');
  const queueTimeout = str('queue-timeout', undefined, 'queueTimeout');
  const maxSessions = str('max-sessions', 'SHOAL_MAX_SESSIONS', 'maxSessions');
  const maxSessionMemory = str('max-session-memory', 'SHOAL_MAX_SESSION_MEMORY', 'maxSessionMemory');
  const redis = str('redis', 'SHOAL_REDIS_URL', 'redis');
  const redisPrefix = str('redis-prefix', 'SHOAL_REDIS_PREFIX', 'redisPrefix');
  const sessionsMode = str('sessions', 'SHOAL_SESSIONS', 'sessions');
  const redisQueueMax = str('redis-queue-max', 'SHOAL_REDIS_QUEUE_MAX', 'redisQueueMax');
  const redisQueueMemory = str('redis-queue-memory', 'SHOAL_REDIS_QUEUE_MEMORY', 'redisQueueMemory');
  const admin = str('admin', 'SHOAL_ADMIN', 'admin');
  const adminToken = str('admin-token', 'SHOAL_ADMIN_TOKEN', 'adminToken');
  const scrapeTimeout = str('scrape-timeout', undefined, 'scrapeTimeout');
  const logLines = str('log-lines', undefined, 'logLines');
  const logMemory = str('log-memory', undefined, 'logMemory');
  if (file.redisOptions !== undefined && (typeof file.redisOptions !== 'object' || file.redisOptions === null || Array.isArray(file.redisOptions))) {
    throw new ShoalError('SHOAL_ERR_BAD_CONFIG', configPath, '"redisOptions" must be an object of ioredis options');
  }
  if (name && !/^[A-Za-z0-9._-]{1,64}$/.test(name[0])) throw new ShoalError('SHOAL_ERR_BAD_VALUE', name[1], name[0], 'a name of letters, digits, ".", "_" or "-" (at most 64)');
  return resolveOptions({
    entry,
    workers: workers ? parseWorkers(workers[0], workers[1]) : availableCpus(),
    ...(port ? { port: parsePort(port[0], port[1]) } : {}),
    host: host?.[0],
    ...(balancer ? { balancer: balancer[0] as ShoalOptions['balancer'] } : {}),
    ...(accept ? { accept: accept[0] as ShoalOptions['accept'] } : {}),
    ...(weights ? { weights: parseWeights(weights[0], weights[1]) } : {}),
    name: name?.[0] ?? defaultName(entry),
    nameGiven: name !== undefined && (name[1] === '--name' || name[1] === 'SHOAL_NAME'),
    appArgs: p.rest,
    verbose: f.verbose === true,
    waitReady: f['wait-ready'] === true || file.waitReady === true,
    ...(stopTimeout ? { stopTimeoutMs: parseMs(stopTimeout[0], stopTimeout[1]) } : {}),
    shutdownDelayMs: shutdownDelay ? parseMs(shutdownDelay[0], shutdownDelay[1]) : defaultShutdownDelay(terminal, admin !== undefined || agent !== undefined),
    ...(agent ? { agent: parseAdminAddress(agent[0], agent[1]) } : {}),
    ...(readyTimeout ? { readyTimeoutMs: parseMs(readyTimeout[0], readyTimeout[1]) } : {}),
    ...(hangTimeout ? { hangTimeoutMs: parseMs(hangTimeout[0], hangTimeout[1]) } : {}),
    ...(hangGrace ? { hangGraceMs: parseMs(hangGrace[0], hangGrace[1]) } : {}),
    ...(maxMemory ? { maxMemoryBytes: parseSize(maxMemory[0], maxMemory[1]) } : {}),
    ...(queueTimeout ? { queueTimeoutMs: parseMs(queueTimeout[0], queueTimeout[1]) } : {}),
    ...(maxSessions ? { maxSessions: parseCount(maxSessions[0], maxSessions[1]) } : {}),
    ...(maxSessionMemory ? { maxSessionMemoryBytes: parseSize(maxSessionMemory[0], maxSessionMemory[1]) } : {}),
    ...(redis ? { redisUrl: redis[0] } : {}),
    ...(redisPrefix ? { redisPrefix: redisPrefix[0] } : {}),
    ...(sessionsMode ? { sessionsMode: sessionsMode[0] as ShoalOptions['sessionsMode'] } : {}),
    ...(redisQueueMax ? { redisQueueMax: parseCount(redisQueueMax[0], redisQueueMax[1]) } : {}),
    ...(redisQueueMemory ? { redisQueueMemoryBytes: parseSize(redisQueueMemory[0], redisQueueMemory[1]) } : {}),
    ...(file.redisOptions ? { redisOptions: file.redisOptions } : {}),
    ...(admin ? { admin: parseAdminAddress(admin[0], admin[1]) } : {}),
    ...(adminToken ? { adminToken: adminToken[0] } : {}),
    ...(scrapeTimeout ? { scrapeTimeoutMs: parseMs(scrapeTimeout[0], scrapeTimeout[1]) } : {}),
    redisCluster: f['redis-cluster'] === true || env.SHOAL_REDIS_CLUSTER === '1' || file.redisCluster === true,
    logPrefix: logPrefix(f['log-prefix'] === true, env, file, configPath),
    ...(logLines ? { logLines: parseCount(logLines[0], logLines[1]) } : {}),
    ...(logMemory ? { logMemoryBytes: parseSize(logMemory[0], logMemory[1]) } : {}),
  });
}
