/**
 * Reads the deployment files in deploy/ the way their consumers do, so tests
 * run what is shipped: systemd unit files (key=value per section), the
 * Dockerfile's instructions, and a few fields of the Kubernetes manifest.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from './cluster.js';

export const DEPLOY = path.join(ROOT, 'deploy');
export const readDeploy = (file: string): string => fs.readFileSync(path.join(DEPLOY, file), 'utf8');

/** A unit file's values: `Section.Key` -> every value given, in order (Environment= repeats). */
export function parseUnit(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let section = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const s = /^\[(.+)\]$/.exec(line);
    if (s) { section = s[1]!; continue; }
    const eq = line.indexOf('=');
    if (eq < 0) throw new Error(`not a unit line: ${line}`);
    const key = `${section}.${line.slice(0, eq).trim()}`;
    out.set(key, [...(out.get(key) ?? []), line.slice(eq + 1).trim()]);
  }
  return out;
}

export const unitValue = (u: Map<string, string[]>, key: string): string => {
  const v = u.get(key);
  if (!v || v.length === 0) throw new Error(`the unit has no ${key}`);
  return v[v.length - 1]!;
};

/** `Environment=A=1` lines as a record. */
export const unitEnv = (u: Map<string, string[]>): Record<string, string> =>
  Object.fromEntries((u.get('Service.Environment') ?? []).map((e) => { const i = e.indexOf('='); return [e.slice(0, i), e.slice(i + 1)]; }));

export interface DockerInstruction { readonly op: string; readonly args: string }

/** Instructions, continuation lines joined, comments dropped. */
export function parseDockerfile(text: string): DockerInstruction[] {
  const joined = text.split('\n').filter((l) => !l.trim().startsWith('#')).join('\n').replace(/\\\n/g, ' ');
  return joined.split('\n').map((l) => l.trim()).filter((l) => l !== '').map((l) => {
    const m = /^(\w+)\s+(.*)$/.exec(l);
    if (!m) throw new Error(`not a Dockerfile instruction: ${l}`);
    return { op: m[1]!.toUpperCase(), args: m[2]! };
  });
}

/** `ENV A=1 B=2` instructions as a record (later ones win, as in the image). */
export function dockerEnv(ins: readonly DockerInstruction[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const i of ins.filter((x) => x.op === 'ENV')) for (const m of i.args.matchAll(/(\w+)=("[^"]*"|\S+)/g)) env[m[1]!] = m[2]!.replace(/^"|"$/g, '');
  return env;
}

/** The port of a `[HOST:]PORT` value. */
export const portOf = (v: string): number => Number(/(\d+)$/.exec(v)?.[1]);
