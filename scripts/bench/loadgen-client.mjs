// The harness side of loadgen.mjs: forks the generator once, sends it jobs
// over IPC, and bounds every job in time. A generator that stops answering is
// SIGKILLed and a fresh one is forked for the next job, so it can never hang
// the harness.
import { fork } from 'node:child_process';

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([promise, new Promise((_, rej) => { timer = setTimeout(() => rej(new Error(`${what}: no answer within ${ms} ms`)), ms); })])
    .finally(() => clearTimeout(timer));
}

export class LoadGen {
  #script;
  #cwd;
  #child = null;
  #jobId = 0;
  #pending = new Map();

  constructor(script, cwd) {
    this.#script = script;
    this.#cwd = cwd;
  }

  get pid() { return this.#child?.pid; }

  async start() {
    const child = fork(this.#script, [], { cwd: this.#cwd, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.#child = child;
    const ready = new Promise((resolve, reject) => this.#pending.set('ready', { resolve, reject }));
    child.on('message', (m) => {
      const p = this.#pending.get(m.ready ? 'ready' : m.id);
      this.#pending.delete(m.ready ? 'ready' : m.id);
      if (!p) return;
      if (m.error) p.reject(new Error(m.error));
      else p.resolve(m.result);
    });
    child.on('exit', () => {
      if (this.#child !== child) return;
      for (const p of this.#pending.values()) p.reject(new Error('load generator exited'));
      this.#pending.clear();
      this.#child = null;
    });
    await withTimeout(ready, 15000, 'load generator start');
  }

  /** Runs one job, at most hardMs. */
  async run(kind, opts, hardMs) {
    if (!this.#child) await this.start();
    const id = ++this.#jobId;
    const p = new Promise((resolve, reject) => this.#pending.set(id, { resolve, reject }));
    this.#child.send({ id, kind, opts });
    try {
      return await withTimeout(p, hardMs, `load generator (${kind})`);
    } catch (e) {
      this.#pending.delete(id);
      this.kill();
      throw e;
    }
  }

  kill() {
    this.#child?.kill('SIGKILL');
    this.#child = null;
  }

  close() {
    this.#child?.disconnect();
    this.#child = null;
  }
}
