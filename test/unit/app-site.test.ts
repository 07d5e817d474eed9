/** Which place appSite picks, for the shapes node and tsx report failures in (end to end: integration/app-failure.test.ts). */
import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { appSite } from '../../runtime/control/app-site.js';
import { uncaughtLine } from '../../runtime/primary/start-checks.js';
import { ROOT } from '../helpers/cluster.js';

const stack = (head: string, ...frames: string[]): string => [head, ...frames.map((f) => `    at ${f}`)].join('\n');

describe('appSite', () => {
  it('takes the first frame in the app, past those of a package and of shoal itself', () => {
    const s = stack('Error: no config',
      'load (file:///srv/app/node_modules/conf/index.js:10:11)',
      `Server.listen (${path.join(ROOT, 'runtime/worker/servers.ts')}:40:5)`,
      'start (file:///srv/app/src/server.js:7:3)',
      'ModuleJob.run (node:internal/modules/esm/module_job:325:25)');
    expect(appSite(s, '', 'no config')).toEqual({ file: '/srv/app/src/server.js', line: 7, column: 3, frame: 'at start (/srv/app/src/server.js:7:3)' });
  });

  it('falls back to a package when the app has no frame, never to node itself', () => {
    const s = stack('Error: bad', 'x (/srv/app/node_modules/dep/a.js:1:2)', 'ModuleJob.run (node:internal/modules/esm/module_job:325:25)');
    expect(appSite(s, '', 'bad')).toMatchObject({ file: '/srv/app/node_modules/dep/a.js', line: 1 });
    expect(appSite(stack('Error: bad', 'ModuleJob.run (node:internal/modules/esm/module_job:325:25)'), '', 'bad')).toBeUndefined();
  });

  it('reads an ES module syntax error from node\'s report in stderr, the last one there', () => {
    const s = stack("SyntaxError: Unexpected token ';'", 'compileSourceTextModule (node:internal/modules/esm/utils:346:16)');
    const stderr = 'starting\n/srv/app/old.js:1\nnot it\n^\n\nfile:///srv/app/server.mjs:3\nconst y = ;\n          ^\n\nSyntaxError: Unexpected token \';\'\n';
    expect(appSite(s, stderr, "Unexpected token ';'")).toEqual({ file: '/srv/app/server.mjs', line: 3, source: ['const y = ;', '          ^'] });
  });

  it('reads a CommonJS syntax error from the top of its stack, and tsx\'s from its message', () => {
    const cjs = "/srv/app/server.cjs:2\nconst y = ;\n          ^\n\nSyntaxError: Unexpected token ';'\n    at wrapSafe (node:internal/modules/cjs/loader:1464:18)";
    expect(appSite(cjs, '', "Unexpected token ';'")).toMatchObject({ file: '/srv/app/server.cjs', line: 2, source: ['const y = ;', '          ^'] });
    const tsx = 'Transform failed with 1 error:\n/srv/app/src/server.ts:3:10: ERROR: Unexpected ";"';
    expect(appSite(stack(`Error: ${tsx}`, 'failureErrorWithLog (/srv/app/node_modules/esbuild/lib/main.js:1752:15)'), '', tsx))
      .toEqual({ file: '/srv/app/src/server.ts', line: 3, column: 10 });
  });
});

describe('uncaughtLine', () => {
  it.each([
    ['file:///x/app.mjs:2\nthrow new Error(\'db down\');\n      ^\n\nError: db down\n    at file:///x/app.mjs:2:7\n\nNode.js v20.20.2\n', 'db down'],
    ['TypeError: x is not a function\n    at y (a.js:1:1)\n', 'x is not a function'],
    ['Error [ERR_MODULE_NOT_FOUND]: Cannot find package \'pg\'\n', 'Cannot find package \'pg\''],
    ['nothing of the kind\n', undefined],
  ])('%#', (stderr, line) => {
    expect(uncaughtLine(stderr)).toBe(line);
  });
});
