/**
 * How many CPUs this process may really use. os.availableParallelism() counts
 * the CPUs in the affinity mask but ignores a cgroup CPU quota (a container
 * limited to 1.5 CPUs on a 16-core host reports 16), which would make
 * `--workers max` fork far too many workers. We take the smallest of the
 * affinity count and the cgroup v2 (cpu.max) or v1 (cfs_quota/cfs_period) quota.
 */
import fs from 'node:fs';
import os from 'node:os';

function readText(p: string): string | undefined {
  try { return fs.readFileSync(p, 'utf8').trim(); } catch { return undefined; }
}

/** Parses cgroup v2 `cpu.max` ("max 100000" or "150000 100000"); returns CPUs or undefined for no limit. */
export function parseCpuMax(text: string | undefined): number | undefined {
  if (!text) return undefined;
  const [quota, period] = text.split(/\s+/);
  if (!quota || quota === 'max') return undefined;
  const q = Number(quota);
  const p = Number(period ?? '100000');
  return q > 0 && p > 0 ? q / p : undefined;
}

/** Parses cgroup v1 quota and period files; -1 quota means no limit. */
export function parseCfs(quota: string | undefined, period: string | undefined): number | undefined {
  const q = Number(quota);
  const p = Number(period);
  return Number.isFinite(q) && q > 0 && Number.isFinite(p) && p > 0 ? q / p : undefined;
}

/** The cgroup path of this process for v2 (line "0::/path" of /proc/self/cgroup). */
function cgroupV2Dir(root: string): string {
  const self = readText('/proc/self/cgroup') ?? '';
  const line = self.split('\n').find((l) => l.startsWith('0::'));
  const rel = line ? line.slice(3) : '/';
  return `${root}${rel === '/' ? '' : rel}`;
}

export function cgroupCpuLimit(root = '/sys/fs/cgroup'): number | undefined {
  // v2: walk from our cgroup up to the root; the tightest limit on the path applies.
  let dir = cgroupV2Dir(root);
  let best: number | undefined;
  for (;;) {
    const lim = parseCpuMax(readText(`${dir}/cpu.max`));
    if (lim !== undefined) best = best === undefined ? lim : Math.min(best, lim);
    if (dir.length <= root.length) break;
    dir = dir.slice(0, dir.lastIndexOf('/'));
  }
  if (best !== undefined) return best;
  return parseCfs(readText(`${root}/cpu/cpu.cfs_quota_us`), readText(`${root}/cpu/cpu.cfs_period_us`))
    ?? parseCfs(readText(`${root}/cpu,cpuacct/cpu.cfs_quota_us`), readText(`${root}/cpu,cpuacct/cpu.cfs_period_us`));
}

/** CPUs available to this process: at least 1, a quota of 1.5 counts as 1. */
export function availableCpus(): number {
  const affinity = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  const quota = cgroupCpuLimit();
  const n = quota === undefined ? affinity : Math.min(affinity, Math.floor(quota));
  return Math.max(1, n);
}
