/**
 * `shoal new <dir>`: a ready app from app-template/, which ships in shoal's
 * package. The template is copied as it is, except:
 *
 * - package.template.json becomes package.json, with the folder's name and a
 *   shoal dependency this machine can install (see vendorShoal). In the
 *   template it is not called package.json: that would make app-template/ a
 *   package of its own, and its `import 'shoal'` would stop resolving to this
 *   repository (the package's self-reference) for `npm start` and the
 *   root type-check.
 * - gitignore becomes .gitignore: npm pack leaves .gitignore files out.
 * - shoal.config.json and README.md get the app's name.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ShoalError } from '../errors.js';
import type { Parsed } from './args.js';

/** shoal's package folder (this file is dist/runtime/cli/new.js): a clone or an installed copy alike. */
const SHOAL_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const TEMPLATE = path.join(SHOAL_ROOT, 'app-template');
/** The name the template's files use, replaced by the app's. */
const TEMPLATE_NAME = 'shoal-app';
const RENAMES: Record<string, string> = { 'package.template.json': 'package.json', gitignore: '.gitignore' };
// What someone who ran the template in place may have left in it; never part of a new app.
const SKIP = new Set(['node_modules', 'dist', 'coverage', 'vendor', 'package-lock.json', '.env']);

export interface ScaffoldOptions {
  /** The new app's folder, resolved from `cwd`; its name is the package name. */
  readonly dir: string;
  readonly cwd: string;
  /** Write into a non-empty folder, replacing files of the same name (others are kept). */
  readonly force: boolean;
  /** Run `npm install` in the new app. */
  readonly install: boolean;
  /** The app's shoal dependency as an npm spec; by default a copy of this shoal in vendor/. */
  readonly shoalSpec?: string | undefined;
  /** Progress lines; stdout by default. */
  readonly log?: (line: string) => void;
}

/** The CLI's `new`: flags to options. */
export async function newCommand(p: Parsed, cwd: string): Promise<number> {
  const [dir, ...extra] = p.positionals;
  if (dir === undefined) throw new ShoalError('SHOAL_ERR_MISSING_DIR');
  if (extra.length > 0) throw new ShoalError('SHOAL_ERR_BAD_VALUE', 'new', p.positionals.join(' '), 'one folder for the new app');
  const spec = p.flags['shoal-spec'];
  return scaffold({ dir, cwd, force: p.flags.force === true, install: p.flags['no-install'] !== true, shoalSpec: typeof spec === 'string' ? spec : undefined });
}

/** Writes the app, installs its dependencies, prints the next steps. Returns the exit code. */
export async function scaffold(o: ScaffoldOptions): Promise<number> {
  const log = o.log ?? ((line: string) => { process.stdout.write(`${line}\n`); });
  const dest = path.resolve(o.cwd, o.dir);
  const name = path.basename(dest);
  const why = invalidName(name);
  if (why !== undefined) throw new ShoalError('SHOAL_ERR_APP_NAME', name, why);
  checkTarget(dest, o.dir, o.force);

  const version = shoalVersion();
  log(`Creating ${name} in ${dest} (shoal ${version})`);
  fs.mkdirSync(dest, { recursive: true });
  // First, as it is the step most likely to fail: the folder then holds nothing half made.
  const spec = o.shoalSpec ?? await vendorShoal(dest);
  if (spec === undefined) return 1;
  const written = copyTemplate(TEMPLATE, dest, (rel, text) => customise(rel, text, name, spec));
  log(`  wrote ${written} files; the shoal dependency is ${spec}`);

  if (o.install) {
    log('Installing dependencies (npm install)');
    const r = await npm(['install', '--no-audit', '--no-fund'], dest, false);
    if (r.code !== 0) {
      return fail(new ShoalError('SHOAL_ERR_INSTALL_FAILED', `npm install in ${dest}`, `npm ${r.why}; the app's files are written: fix the problem above, then run 'npm install' there`));
    }
  }
  log(nextSteps(o.cwd, dest, name, o.install));
  return 0;
}

/**
 * Why `name` cannot name the app's package (npm's rules for new packages),
 * or undefined when it can. It also names the cluster, hence at most 64.
 */
export function invalidName(name: string): string | undefined {
  if (!/^[a-z0-9-][a-z0-9._-]{0,63}$/.test(name) || name === 'node_modules') {
    return "use lowercase letters, digits, '-', '.' and '_', not starting with '.' or '_', at most 64 characters (e.g. my-app)";
  }
  if (builtinModules.includes(name)) return `it is the name of a Node.js built-in module, which npm refuses; pick another`;
  if (name === 'shoal') return "the app depends on shoal, and npm refuses a package that depends on its own name; pick another";
  return undefined;
}

/** Refuses a file, and a folder with something in it unless `force`. A lone .git (a fresh `git init` or clone) counts as empty. */
function checkTarget(dest: string, given: string, force: boolean): void {
  let entries: string[];
  try {
    entries = fs.readdirSync(dest).filter((e) => e !== '.git');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return;
    if (code === 'ENOTDIR') throw new ShoalError('SHOAL_ERR_BAD_VALUE', '<dir>', given, 'a folder for the new app, but it is a file');
    throw e;
  }
  if (entries.length === 0 || force) return;
  const shown = entries.slice(0, 3).join(', ') + (entries.length > 3 ? `, … (${entries.length} entries)` : '');
  throw new ShoalError('SHOAL_ERR_DIR_NOT_EMPTY', given, shown);
}

function shoalVersion(): string {
  const pkg = JSON.parse(fs.readFileSync(path.join(SHOAL_ROOT, 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

/**
 * Packs the running shoal into <app>/vendor/ and returns the spec that
 * installs it (`file:vendor/shoal-<version>.tgz`), or undefined after
 * printing why it failed.
 *
 * shoal is not on the npm registry, so `^<version>` cannot install. A path
 * to where this shoal runs from is no better: under npx that is a cache
 * folder npm may clean, and a link to a clone breaks when the clone moves
 * and resolves shoal's imports (fastify's types) from the clone's
 * node_modules, not the app's. A tarball inside the app installs offline,
 * the same on every machine, and survives moving the app; `--shoal-spec`
 * overrides it (e.g. `^0.2.0` once shoal is published, or `file:../shoal`
 * to follow a clone).
 * --ignore-scripts: pack what is already built; a clone's `prepack` would
 * rebuild, and an installed copy has no compiler to do it.
 */
async function vendorShoal(dest: string): Promise<string | undefined> {
  const vendor = path.join(dest, 'vendor');
  fs.mkdirSync(vendor, { recursive: true });
  const r = await npm(['pack', '--ignore-scripts', '--json', '--pack-destination', vendor], SHOAL_ROOT, true);
  let file: string | undefined;
  try { file = (JSON.parse(r.stdout) as { filename?: string }[])[0]?.filename; } catch { /* reported below */ }
  if (r.code !== 0 || file === undefined || !fs.existsSync(path.join(vendor, file))) {
    const detail = r.stderr.trim().split('\n').filter((l) => !/^npm (warn|notice)/.test(l)).slice(-3).join(' ');
    fail(new ShoalError('SHOAL_ERR_INSTALL_FAILED', `packing this shoal (${SHOAL_ROOT}) into ${vendor}`, `npm pack ${r.why}${detail ? `: ${detail}` : ''}; pass --shoal-spec <spec> to depend on shoal another way`));
    return undefined;
  }
  return `file:vendor/${file}`;
}

/** Copies `src` into `dest` recursively; `edit` may rewrite a file by its path in the app. Returns the number of files. */
function copyTemplate(src: string, dest: string, edit: (rel: string, text: string) => string | undefined, rel = ''): number {
  let n = 0;
  for (const e of fs.readdirSync(path.join(src, rel), { withFileTypes: true })) {
    if (SKIP.has(e.name)) continue;
    const from = path.join(rel, e.name);
    const to = path.join(rel, RENAMES[e.name] ?? e.name);
    if (e.isDirectory()) {
      fs.mkdirSync(path.join(dest, to), { recursive: true });
      n += copyTemplate(src, dest, edit, from);
      continue;
    }
    if (!e.isFile()) continue;
    const edited = edit(to, fs.readFileSync(path.join(src, from), 'utf8'));
    if (edited === undefined) fs.copyFileSync(path.join(src, from), path.join(dest, to));
    else fs.writeFileSync(path.join(dest, to), edited);
    n++;
  }
  return n;
}

/** The app's own version of a template file, or undefined to copy it unchanged. */
function customise(rel: string, text: string, name: string, spec: string): string | undefined {
  if (rel === 'package.json') {
    const pkg = JSON.parse(text) as { name: string; dependencies: Record<string, string> };
    pkg.name = name;
    pkg.dependencies.shoal = spec;
    return `${JSON.stringify(pkg, null, 2)}\n`;
  }
  if (rel === 'shoal.config.json') {
    const config = JSON.parse(text) as { name?: string };
    config.name = name;
    return `${JSON.stringify(config, null, 2)}\n`;
  }
  if (rel === 'README.md') return text.replaceAll(TEMPLATE_NAME, name);
  return undefined;
}

function nextSteps(cwd: string, dest: string, name: string, installed: boolean): string {
  const rel = path.relative(cwd, dest);
  const where = rel === '' ? undefined : rel.startsWith('..') || path.isAbsolute(rel) ? dest : rel;
  const steps = [
    ...(where === undefined ? [] : [`cd ${/[\s'"$`\\]/.test(where) ? JSON.stringify(where) : where}`]),
    ...(installed ? [] : ['npm install']),
    'npm run dev     # one process, reloads on change: http://localhost:3000',
    "npm test        # type-check and run the app's tests",
    'npm start       # clustered, one worker per CPU (PORT=8080 npm start for another port)',
  ];
  return [`\nDone: ${name} is ready. Next:`, ...steps.map((s) => `  ${s}`),
    'Before production, set SESSION_SECRET: see README.md.'].join('\n');
}

function fail(err: ShoalError): number {
  process.stderr.write(`shoal: ${err.message}\n`);
  return 1;
}

interface NpmResult { code: number; stdout: string; stderr: string; why: string }

/** Runs npm (the one on PATH) in `cwd`; `capture` keeps its output, otherwise the user sees it. */
function npm(args: string[], cwd: string, capture: boolean): Promise<NpmResult> {
  return new Promise((resolve) => {
    const p = spawn('npm', args, {
      cwd,
      stdio: capture ? ['ignore', 'pipe', 'pipe'] : ['ignore', 'inherit', 'inherit'],
      // npm is npm.cmd on Windows, which only a shell runs.
      shell: process.platform === 'win32',
    });
    let stdout = '';
    let stderr = '';
    p.stdout?.setEncoding('utf8').on('data', (c: string) => { stdout += c; });
    p.stderr?.setEncoding('utf8').on('data', (c: string) => { stderr += c; });
    p.once('error', (e) => resolve({ code: -1, stdout, stderr, why: `could not be run: ${e.message}` }));
    p.once('close', (code, signal) => resolve({ code: code ?? 1, stdout, stderr, why: signal ? `was killed by ${signal}` : `exited with code ${code}` }));
  });
}
