/**
 * The CLI's logic, importable (the bin in main.ts only calls it). Usage errors
 * print one line and exit 2; other failures exit 1; stack traces only with
 * --verbose (see report.ts).
 */
import fs from 'node:fs';
import { flagsFor, parseArgs } from './args.js';
import { controlCommand } from './control-commands.js';
import { startOptions } from './config.js';
import { helpFor } from './help.js';
import { newCommand } from './new.js';
import { reportError } from './report.js';
import { start } from './start.js';

function version(): string {
  const pkg = JSON.parse(fs.readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** The control commands, which print JSON with --json whatever happens. */
const CONTROL = new Set(['status', 'stop', 'scale', 'reload', 'logs']);

export async function main(argv: readonly string[], env = process.env, cwd = process.cwd()): Promise<number> {
  const verbose = argv.includes('--verbose');
  // Known before parsing, which may be what fails: the first word that is not a flag is the command.
  const json = argv.includes('--json') && CONTROL.has(argv.find((a) => !a.startsWith('-')) ?? '');
  try {
    const p = parseArgs(argv, flagsFor);
    if (p.flags.version) { process.stdout.write(`${version()}\n`); return 0; }
    if (p.flags.help || p.command === undefined || p.command === 'help') {
      process.stdout.write(helpFor(p.command === 'help' ? p.positionals[0] : p.command));
      return p.command === undefined && !p.flags.help ? 2 : 0;
    }
    switch (p.command) {
      case 'start': return await start(startOptions(p, env, cwd));
      case 'new': return await newCommand(p, cwd);
      default: return await controlCommand(p, env);
    }
  } catch (e) {
    return reportError(e, { json, verbose });
  }
}
