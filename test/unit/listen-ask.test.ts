/** What an app's listen() call asks for, as the worker shim reads it (runtime/worker/servers.ts). */
import { describe, expect, it } from 'vitest';
import { listenAsk } from '../../runtime/worker/servers.js';

const cb = (): void => {};

describe('listenAsk', () => {
  it.each([
    [[8080], { tcp: true, port: 8080, host: undefined }],
    [['8080'], { tcp: true, port: 8080, host: undefined }],
    [[8080, '127.0.0.1', cb], { tcp: true, port: 8080, host: '127.0.0.1' }],
    [[8080, cb], { tcp: true, port: 8080, host: undefined }],
    [[], { tcp: true, port: 0, host: undefined }],
    [[cb], { tcp: true, port: 0, host: undefined }],
    [[undefined, cb], { tcp: true, port: 0, host: undefined }],
    [[0], { tcp: true, port: 0, host: undefined }],
    [[''], { tcp: true, port: 0, host: undefined }],
    [[{ port: 9090, host: '::1' }], { tcp: true, port: 9090, host: '::1' }],
    [[{ host: 'localhost' }], { tcp: true, port: 0, host: 'localhost' }],
    [['/tmp/app.sock'], { tcp: false }],
    [[{ path: '/tmp/app.sock' }], { tcp: false }],
    [[{ fd: 3 }], { tcp: false }],
    [[{ handle: {} }], { tcp: false }],
    [[-1], { tcp: false }],
    [[1.5], { tcp: false }],
  ] as [unknown[], unknown][])('%o -> %o', (args, ask) => {
    expect(listenAsk(args)).toEqual(ask);
  });
});
