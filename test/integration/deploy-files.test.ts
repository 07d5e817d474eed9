/**
 * deploy/Dockerfile and deploy/kubernetes.yaml against what shoal really
 * serves: every COPY source exists, the CMD parses with the real parser and
 * runs (with the image's ENV, and the pod's env over it as Kubernetes does),
 * EXPOSE and containerPort are the ports it serves, the probes' paths answer
 * on the admin port with no header (the token, from a Secret, guards the
 * rest), and the grace period covers the shutdown delay and the stop timeout.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { agentLine } from '../helpers/agent.js';
import { freePort, onJsonLines, ROOT, TEST_RUNTIME_DIR, type LogLine } from '../helpers/cluster.js';
import { waitFor } from '../helpers/http.js';
import { request } from '../helpers/load.js';
import { dockerEnv, parseDockerfile, portOf, readDeploy } from '../helpers/units.js';
import { flagsFor, parseArgs } from '../../runtime/cli/args.js';
import { startOptions } from '../../runtime/cli/config.js';
import { availableCpus } from '../../runtime/cpus.js';
import { DEFAULTS } from '../../runtime/options.js';

const docker = parseDockerfile(readDeploy('Dockerfile'));
const image = dockerEnv(docker);
const cmd = JSON.parse(docker.filter((i) => i.op === 'CMD').at(-1)!.args) as string[];
const k8s = readDeploy('kubernetes.yaml');
const START_TIMEOUT_MS = 20_000;
const REQUEST_TIMEOUT_MS = 5_000;
/** What the Secret the manifest names would hold. */
const SECRET_TOKEN = 'k8s-secret-token-0123456789abcdef';

/** A field of the manifest's text: the first `key: value` after `after` (the manifest has one container). */
function field(key: string, after = ''): string {
  const from = after ? k8s.indexOf(after) : 0;
  if (from < 0) throw new Error(`the manifest has no ${after}`);
  const m = new RegExp(`^\\s*-?\\s*${key}:\\s*"?([^"\\n]+?)"?\\s*$`, 'm').exec(k8s.slice(from));
  if (!m) throw new Error(`the manifest has no ${key} after ${after || 'its start'}`);
  return m[1]!;
}
/** The pod's env: name/value pairs. */
const podEnv = Object.fromEntries([...k8s.matchAll(/- name: (SHOAL_\w+)\n\s+value: "([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));

let proc: ReturnType<typeof spawn> | undefined;
afterEach(async () => {
  const p = proc;
  proc = undefined;
  if (p && p.exitCode === null) { p.kill('SIGKILL'); await new Promise((r) => p.once('exit', r)); }
});

describe('deploy/Dockerfile', () => {
  it('copies files that exist, exposes the ports it serves, and runs the real CLI with flags it accepts', () => {
    for (const c of docker.filter((i) => i.op === 'COPY' && !i.args.startsWith('--from'))) {
      const sources = c.args.split(/\s+/).slice(0, -1);
      for (const s of sources) expect(fs.existsSync(path.join(ROOT, s)), `COPY ${s}`).toBe(true);
    }
    expect(cmd.slice(0, 3)).toEqual(['node', 'dist/runtime/cli/main.js', 'start']);
    const exposed = docker.filter((i) => i.op === 'EXPOSE').flatMap((i) => i.args.split(/\s+/).map(Number)).sort();
    expect(exposed).toEqual([Number(image.PORT), portOf(image.SHOAL_ADMIN!), portOf(image.SHOAL_AGENT!)].sort());
    const parsed = parseArgs(cmd.slice(2), flagsFor);
    expect(fs.existsSync(path.join(ROOT, parsed.positionals[0]!))).toBe(true);
    // --workers max: the CPUs the cgroup quota allows; with the image's env, off a terminal.
    const o = startOptions(parsed, { ...image, SHOAL_ADMIN_TOKEN: 'x'.repeat(32) }, ROOT, false);
    expect(o.workers).toBe(availableCpus());
    expect(o.port).toBe(Number(image.PORT));
    expect(o.admin).toEqual({ host: '0.0.0.0', port: portOf(image.SHOAL_ADMIN!) });
    expect(o.agent).toEqual({ host: '0.0.0.0', port: portOf(image.SHOAL_AGENT!) });
    expect(o.shutdownDelayMs).toBe(Number(image.SHOAL_SHUTDOWN_DELAY));
  });
});

describe('deploy/kubernetes.yaml', () => {
  it('probes /livez and /readyz on the admin port, and its grace period covers the delay and the stop', () => {
    expect(field('containerPort', 'name: http')).toBe(image.PORT);
    expect(Number(field('containerPort', 'name: admin'))).toBe(portOf(image.SHOAL_ADMIN!));
    expect(field('path', 'livenessProbe:')).toBe('/livez');
    expect(field('port', 'livenessProbe:')).toBe('admin');
    expect(field('path', 'readinessProbe:')).toBe('/readyz');
    expect(field('port', 'readinessProbe:')).toBe('admin');
    const delay = Number(podEnv.SHOAL_SHUTDOWN_DELAY);
    expect(delay).toBeGreaterThan(0);
    expect(Number(field('terminationGracePeriodSeconds')) * 1000).toBeGreaterThan(delay + DEFAULTS.stopTimeoutMs);
    // A stopping pod is seen not ready within the delay.
    expect(Number(field('periodSeconds', 'readinessProbe:')) * Number(field('failureThreshold', 'readinessProbe:')) * 1000).toBeLessThan(delay);
    // No preStop sleep: the shutdown delay does that job (and a sleep would add to it).
    expect(k8s).not.toMatch(/^\s*preStop:/m);
    // The token comes from a Secret, never a literal; the probes carry none (a kubelet cannot read a Secret into a header).
    expect(k8s).toMatch(/- name: SHOAL_ADMIN_TOKEN\n\s+valueFrom:\n\s+secretKeyRef:/);
    expect(podEnv.SHOAL_ADMIN_TOKEN).toBeUndefined();
    expect(k8s).not.toMatch(/httpHeaders:/);
  });

  it('the image CMD with the pod env serves the app, the probes without a token, and the agent', async () => {
    const [port, admin, agent] = [await freePort(), await freePort(), await freePort()];
    // The image's ENV, the pod's env over it (as Kubernetes does), with free ports for a test.
    const env = {
      ...process.env, ...image, ...podEnv, SHOAL_ADMIN_TOKEN: SECRET_TOKEN, SHOAL_RUNTIME_DIR: TEST_RUNTIME_DIR, NO_COLOR: '1',
      PORT: String(port), SHOAL_ADMIN: `127.0.0.1:${admin}`, SHOAL_AGENT: `127.0.0.1:${agent}`,
    };
    const [bin, ...args] = cmd;
    const name = `test-k8s-${port}`;
    proc = spawn(bin === 'node' ? process.execPath : bin!, args.map((a) => (a === 'app' ? name : a)), { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const logs: LogLine[] = [];
    onJsonLines(proc.stdout!, (l) => logs.push(l));
    await waitFor(() => logs.some((l) => l.msg === 'cluster ready'), START_TIMEOUT_MS, 'cluster ready');
    const get = (p: string, headers: Record<string, string> = {}): Promise<number> =>
      new Promise((resolve, reject) => {
        http.get({ host: '127.0.0.1', port: admin, path: p, headers }, (res) => { res.resume(); resolve(res.statusCode ?? 0); }).on('error', reject);
      });
    expect(await get(field('path', 'livenessProbe:'))).toBe(200);
    expect(await get(field('path', 'readinessProbe:'))).toBe(200);
    expect(await get('/status')).toBe(401);
    expect(await get('/status', { authorization: `Bearer ${SECRET_TOKEN}` })).toBe(200);
    expect((await request(port, '/', false, REQUEST_TIMEOUT_MS)).body).toMatch(/^hello from worker \d/);
    expect(await agentLine(agent)).toMatch(/^up ready \d+%\n$/);
    // SIGTERM, as the kubelet sends: not ready at once, still serving, for the delay.
    proc.kill('SIGTERM');
    await waitFor(() => logs.some((l) => l.msg === 'shutdown: serving -> delaying'), START_TIMEOUT_MS, 'the shutdown delay');
    expect(await get('/readyz')).toBe(503);
    expect(await get('/livez')).toBe(200);
    expect((await request(port, '/', false, REQUEST_TIMEOUT_MS)).status).toBe(200);
  });
});
