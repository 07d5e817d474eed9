/**
 * The CLI's logic, importable (the bin in main.ts only calls it). Usage errors
 * print one line and exit 2; other failures exit 1; stack traces only with --verbose.
 */
import fs from 'node:fs';
import { isShoalError, ShoalError } from '../errors.js';
import { CONTROL_FLAGS, GLOBAL_FLAGS, NEW_FLAGS, parseArgs, RELOAD_FLAGS, START_FLAGS, STATUS_FLAGS, type FlagSpec } from './args.js';
import { controlCommand } from './control-commands.js';
import { startOptions } from './config.js';
import { HELP } from './help.js';
import { newCommand } from './new.js';
import { start } from './start.js';

const COMMANDS: Record<string, Record<string, FlagSpec>> = {
  start: START_FLAGS, status: STATUS_FLAGS, stop: CONTROL_FLAGS, scale: CONTROL_FLAGS, reload: RELOAD_FLAGS, new: NEW_FLAGS,
};

function version(): string {
  const pkg = JSON.parse(fs.readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export async function main(argv: readonly string[], env = process.env, cwd = process.cwd()): Promise<number> {
  const verbose = argv.includes('--verbose');
  try {
    const p = parseArgs(argv, (cmd) => (cmd === undefined ? GLOBAL_FLAGS : COMMANDS[cmd] ?? GLOBAL_FLAGS));
    if (p.flags.version) { process.stdout.write(`${version()}\n`); return 0; }
    if (p.flags.help || p.command === undefined || p.command === 'help') {
      process.stdout.write(HELP);
      return p.command === undefined && !p.flags.help ? 2 : 0;
    }
    switch (p.command) {
      case 'start': return await start(startOptions(p, env, cwd));
      case 'status': case 'stop': case 'scale': case 'reload': return await controlCommand(p, env);
      case 'new': return await newCommand(p, cwd);
      default: throw new ShoalError('SHOAL_ERR_UNKNOWN_COMMAND', p.command, Object.keys(COMMANDS).join(', '));
    }
  } catch (e) {
    const usage = isShoalError(e) && e.usage;
    const msg = e instanceof Error ? e.message : String(e);
    process.stderr.write(`shoal: ${msg}\n`);
    if (verbose && e instanceof Error && e.stack) process.stderr.write(`${e.stack}\n`);
    else if (!isShoalError(e)) process.stderr.write('(run with --verbose for the stack trace)\n');
    return usage ? 2 : 1;
  }
}

