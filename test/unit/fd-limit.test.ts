/** The descriptor budget a worker accepts up to (runtime/worker/fd-limit.ts). */
import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connectionBudget, openFileLimit } from '../../runtime/worker/fd-limit.js';

const limitsFile = (line: string): string => {
  const f = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'shoal-limits-')), 'limits');
  fs.writeFileSync(f, `Limit                     Soft Limit           Hard Limit           Units\nMax processes             63484                63484                processes\n${line}\nMax locked memory         8388608              8388608              bytes\n`);
  return f;
};

describe('openFileLimit', () => {
  it('reads the soft limit', () => expect(openFileLimit(limitsFile('Max open files            1024                 524288               files'))).toBe(1024));
  it('unlimited or unreadable: no limit', () => {
    expect(openFileLimit(limitsFile('Max open files            unlimited            unlimited            files'))).toBeUndefined();
    expect(openFileLimit('/nonexistent/limits')).toBeUndefined();
  });
  it('this process has one on Linux', () => {
    if (process.platform === 'linux') expect(openFileLimit()).toBeGreaterThan(0);
  });
});

describe('connectionBudget', () => {
  it.each([[undefined, undefined], [128, 96], [1024, 896], [100000, 87500], [40, 8], [20, 1]] as const)('limit %s -> %s', (limit, budget) => {
    expect(connectionBudget(limit)).toBe(budget);
  });
});
