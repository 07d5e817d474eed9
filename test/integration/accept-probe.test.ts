/**
 * The start-up self-test of kernel accept against the real thing: a handle
 * that went through a child process and back can be paused (the probe
 * passes), the primary's own bound handle cannot (the probe fails, and that
 * is what a node without the behaviour looks like).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { probePause, probeSocket } from '../../runtime/primary/accept-probe.js';
import type { TcpHandle } from '../../runtime/primary/tcp-handle.js';
import { FIXTURES } from '../helpers/cluster.js';

let child: ChildProcess;
beforeAll(() => { child = fork(path.join(FIXTURES, 'echo-handle.mjs')); });
afterAll(() => { child.kill(); });

const echo = (h: TcpHandle): Promise<TcpHandle> => new Promise((resolve) => {
  child.once('message', (_m, back) => resolve(back as unknown as TcpHandle));
  child.send({ echo: true }, h as never);
});

describe('accept probe', () => {
  it('passes on a descriptor received over IPC', async () => {
    const own = probeSocket();
    const copy = await echo(own);
    own.close();
    expect(await probePause(copy)).toBeUndefined();
  });

  it('fails, naming the reason, on a handle the process bound itself', async () => {
    expect(await probePause(probeSocket())).toMatch(/readStart\/readStop on a listening handle answered -\d+\/0/);
  });
});
