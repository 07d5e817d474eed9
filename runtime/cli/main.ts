#!/usr/bin/env node
/** The `shoal` command: a thin shell over runtime/cli/run.ts. */
import { main } from './run.js';

process.exitCode = await main(process.argv.slice(2));
