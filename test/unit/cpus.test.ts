import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { availableCpus, cgroupCpuLimit, parseCfs, parseCpuMax } from '../../runtime/cpus.js';

describe('cgroup CPU limits', () => {
  it.each([
    ['max 100000', undefined], ['150000 100000', 1.5], ['200000 100000', 2], ['50000 100000', 0.5], ['', undefined], [undefined, undefined],
  ])('cpu.max %j -> %j', (text, cpus) => { expect(parseCpuMax(text)).toBe(cpus); });

  it.each([
    ['-1', '100000', undefined], ['300000', '100000', 3], ['abc', '100000', undefined], ['100000', '0', undefined],
  ])('cfs quota %s period %s -> %j', (q, p, cpus) => { expect(parseCfs(q, p)).toBe(cpus); });

  it('reads a v1 quota from a cgroup tree', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-'));
    fs.mkdirSync(path.join(root, 'cpu'));
    fs.writeFileSync(path.join(root, 'cpu/cpu.cfs_quota_us'), '150000\n');
    fs.writeFileSync(path.join(root, 'cpu/cpu.cfs_period_us'), '100000\n');
    expect(cgroupCpuLimit(root)).toBe(1.5);
    fs.rmSync(root, { recursive: true });
  });

  it('reads a v2 cpu.max at the root of a cgroup tree', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-'));
    fs.writeFileSync(path.join(root, 'cpu.max'), '250000 100000\n');
    expect(cgroupCpuLimit(root)).toBe(2.5);
    fs.rmSync(root, { recursive: true });
  });

  it('never reports more than the affinity allows, nor less than 1', () => {
    const n = availableCpus();
    expect(n).toBeGreaterThanOrEqual(1);
    expect(n).toBeLessThanOrEqual(os.availableParallelism());
  });
});
