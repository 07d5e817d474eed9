#!/usr/bin/env node
/** The `shoal` command: a thin shell over runtime/cli/run.ts. */
import os from 'node:os';
import { main } from './run.js';

/**
 * The reader went away (`shoal status | head -1`): Node ignores SIGPIPE, so
 * the next write fails with EPIPE, an uncaught stack trace without this. End
 * at once and quietly, with the code a shell gives a tool killed by SIGPIPE
 * (128 + 13 = 141), as `yes | head -1` does. A reload or scale under way goes
 * on in the primary: it does not depend on this process staying.
 */
const closedPipe = (err: NodeJS.ErrnoException): void => {
  if (err.code !== 'EPIPE') throw err;
  process.exit(128 + os.constants.signals.SIGPIPE);
};
process.stdout.on('error', closedPipe);
process.stderr.on('error', closedPipe);

process.exitCode = await main(process.argv.slice(2));
