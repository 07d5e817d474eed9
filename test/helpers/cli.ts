/**
 * The built CLI as a running process, for the commands that go on until
 * they are stopped (logs -f, status --watch): what it printed so far, a
 * wait for what it will print, and how it ended.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { CLI, ROOT, TEST_RUNTIME_DIR } from './cluster.js';

export interface RunningCli {
  readonly proc: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves once stdout matches `re`; rejects after `timeoutMs` or if the command ends first. */
  waitForOutput(re: RegExp, timeoutMs?: number): Promise<void>;
  /** Resolves with how the command ended. */
  readonly ended: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function spawnCli(args: string[], env: NodeJS.ProcessEnv = {}): RunningCli {
  const proc = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env: { ...process.env, SHOAL_RUNTIME_DIR: TEST_RUNTIME_DIR, ...env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const waiters: { re: RegExp; resolve: () => void }[] = [];
  proc.stdout!.setEncoding('utf8').on('data', (c: string) => {
    out += c;
    for (const w of [...waiters]) if (w.re.test(out)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(); }
  });
  proc.stderr!.setEncoding('utf8').on('data', (c: string) => { err += c; });
  const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
  return {
    proc, ended,
    stdout: () => out,
    stderr: () => err,
    waitForOutput(re, timeoutMs = 10_000) {
      if (re.test(out)) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`timed out waiting for ${String(re)}; stdout:\n${out}\nstderr:\n${err}`)), timeoutMs);
        waiters.push({ re, resolve: () => { clearTimeout(t); resolve(); } });
        void ended.then(() => { clearTimeout(t); reject(new Error(`the command ended before ${String(re)}; stdout:\n${out}\nstderr:\n${err}`)); });
      });
    },
  };
}
