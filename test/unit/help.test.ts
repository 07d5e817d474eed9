/**
 * The help against the code it describes: each command's help lists exactly
 * its own flags, and the environment lists (help and README) name every
 * variable the runtime reads, and no other.
 */
import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { COMMANDS, GLOBAL_FLAGS } from '../../runtime/cli/args.js';
import { helpFor } from '../../runtime/cli/help.js';
import { ROOT } from '../helpers/cluster.js';

const commands = Object.keys(COMMANDS).filter((c) => c !== 'help');
const flagsOf = (c: string): string[] => Object.keys(COMMANDS[c]!).filter((f) => !(f in GLOBAL_FLAGS) || f === 'verbose' || f === 'help');
const allFlags = new Set(commands.flatMap(flagsOf));

describe('shoal <command> --help', () => {
  it.each(commands)('%s: its usage, every one of its flags (with its alias), and no flag of another command', (c) => {
    const text = helpFor(c);
    expect(text.startsWith(`Usage: shoal ${c} `)).toBe(true);
    for (const f of flagsOf(c)) {
      const alias = COMMANDS[c]![f]!.alias;
      expect(text, f).toMatch(new RegExp(`^ {2}${alias ? `-${alias}, ` : ' {4}'}--${f}\\b`, 'm'));
    }
    const mine = new Set(flagsOf(c));
    for (const f of [...allFlags].filter((x) => !mine.has(x))) expect(text, f).not.toMatch(new RegExp(`^ +(-\\w, )?--${f}\\b`, 'm'));
  });

  it('the overview has a usage line for every command, and no option list', () => {
    const text = helpFor();
    for (const c of commands) expect(text, c).toMatch(new RegExp(`^ {2}shoal ${c}\\b`, 'm'));
    expect(text).not.toMatch(/^ +-w, --workers/m);
  });

  it('an unknown command is a usage error naming the commands', () => {
    expect(() => helpFor('strat')).toThrow(/unknown command 'strat'; commands: start, status, logs, reload, scale, stop, new/);
  });
});

/** The environment variables the runtime reads: `env.NAME` anywhere, and the names config.ts passes to str(). */
function variablesRead(): Set<string> {
  const names = new Set<string>();
  const walk = (dir: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      // session/ only names the app's own SESSION_SECRET in examples; worker/ and ipc/ read the primary's internal ENV.
      if (e.isDirectory()) { if (!['session', 'worker', 'ipc'].includes(e.name)) walk(p); continue; }
      const text = fs.readFileSync(p, 'utf8');
      for (const m of text.matchAll(/\benv\.([A-Z][A-Z0-9_]*)/g)) names.add(m[1]!);
      for (const m of text.matchAll(/\bstr\('[a-z-]+', '([A-Z][A-Z0-9_]*)'/g)) names.add(m[1]!);
    }
  };
  walk(path.join(ROOT, 'runtime'));
  return names;
}

const named = (text: string): Set<string> => new Set([...text.matchAll(/\b(PORT|NO_COLOR|LISTEN_(?:PID|FDS|FDNAMES)|(?:SHOAL|XDG)_[A-Z0-9_]+)\b/g)].map((m) => m[1]!));

describe('environment lists', () => {
  const read = variablesRead();
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const paragraph = readme.slice(readme.indexOf('Options also come from the environment'), readme.indexOf('\n\n', readme.indexOf('Options also come from the environment')));

  it('the code reads what we think it reads (the scan works)', () => {
    expect(read).toContain('SHOAL_WORKERS');
    expect(read).toContain('SHOAL_REDIS_CLUSTER');
    expect(read).toContain('SHOAL_RUNTIME_DIR');
    expect(read).toContain('NO_COLOR');
  });

  it.each([
    ['shoal --help', helpFor()],
    ['shoal start --help', helpFor('start')],
    ['the README', paragraph],
  ])('%s names every variable the runtime reads, and no other', (_where, text) => {
    expect([...named(text)].sort()).toEqual([...read].sort());
  });
});
