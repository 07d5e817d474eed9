/**
 * Where a cluster's control socket lives: one owner-only folder per user
 * ($XDG_RUNTIME_DIR/shoal when set, else <tmpdir>/shoal-<uid>), one socket
 * per cluster name, mode 0600. Only the user who started the cluster can
 * drive it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export function runtimeDir(env = process.env): string {
  if (env.SHOAL_RUNTIME_DIR) return env.SHOAL_RUNTIME_DIR;
  if (env.XDG_RUNTIME_DIR) return path.join(env.XDG_RUNTIME_DIR, 'shoal');
  return path.join(os.tmpdir(), `shoal-${process.getuid?.() ?? 'user'}`);
}

/** Creates the folder owner-only, and refuses one that someone else owns or others can write. */
export function ensureRuntimeDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = fs.statSync(dir);
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid) throw new Error(`${dir} belongs to another user; set SHOAL_RUNTIME_DIR to a folder of yours`);
  if ((st.mode & 0o077) !== 0) fs.chmodSync(dir, 0o700);
}

export const socketPath = (dir: string, name: string): string => path.join(dir, `${name}.sock`);

/** Names of the clusters that have a socket in the folder (running or stale). */
export function listClusterNames(dir: string): string[] {
  try {
    return fs.readdirSync(dir).filter((f) => f.endsWith('.sock')).map((f) => f.slice(0, -'.sock'.length)).sort();
  } catch {
    return [];
  }
}
