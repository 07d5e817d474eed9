/**
 * Where the app's own code failed, for a worker that failed to start during
 * a reload or scale: the CLI prints it under the error, since the app's
 * output (its stack, its stderr) shows only where the primary runs.
 *
 * Three places may tell, in this order of preference:
 * - the stack's first frame in the app (not node's, a package's or shoal's);
 * - the `file:line` header node prints above the source line and a caret
 *   when the process dies of an uncaught error, in its stderr (for a
 *   SyntaxError at module load it is the only one: the stack has no frame of
 *   the app), or at the top of the stack (CommonJS syntax errors);
 * - a `file:line:col` in the message (tsx reports its syntax errors so).
 * A place in a package (node_modules) is used only when the app has none.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AppSite } from '../errors.js';

interface Place { file: string; line: number; column?: number; frame?: string; source?: string[] }

/** shoal's own runtime folder (the worker shim's frames are not the app's). */
const SHOAL_RUNTIME = path.dirname(path.dirname(fileURLToPath(import.meta.url))) + path.sep;

/** A path or file: URL; node's internals (node:…, internal/…) are neither. */
function fileOf(s: string): string | undefined {
  if (s.startsWith('file://')) { try { return fileURLToPath(s); } catch { return undefined; } }
  return s.startsWith('/') ? s : undefined;
}

const FRAME = /^\s*at (?:.+? \()?(.+?):(\d+):(\d+)\)?$/;
/** `    at connect (file:///app/db.js:2:28)` */
function frameOf(text: string): Place | undefined {
  const m = FRAME.exec(text);
  const file = m ? fileOf(m[1]!) : undefined;
  if (!m || !file) return undefined;
  return { file, line: Number(m[2]), column: Number(m[3]), frame: text.trim().replace(m[1]!, file) };
}

/** Node's report of an uncaught error: `file:line`, the source line, a caret line under it. */
function headersIn(text: string): Place[] {
  const lines = text.split('\n');
  const found: Place[] = [];
  lines.forEach((l, i) => {
    const m = /^(.+):(\d+)$/.exec(l);
    const file = m ? fileOf(m[1]!) : undefined;
    const caret = lines[i + 2] ?? '';
    if (!m || !file || !/^\s*\^+\s*$/.test(caret)) return;
    found.push({ file, line: Number(m[2]), source: [lines[i + 1]!, caret.trimEnd()] });
  });
  return found;
}

function locationsIn(message: string): Place[] {
  return [...message.matchAll(/((?:file:\/\/)?\/[^\s:]+):(\d+):(\d+)/g)].flatMap((m) => {
    const file = fileOf(m[1]!);
    return file ? [{ file, line: Number(m[2]), column: Number(m[3]) }] : [];
  });
}

const isShoal = (p: Place): boolean => p.file.startsWith(SHOAL_RUNTIME);
const isApp = (p: Place): boolean => !isShoal(p) && !p.file.split(path.sep).includes('node_modules');

export function appSite(stack: string | undefined, stderr: string, message: string): AppSite | undefined {
  const frames = (stack ?? '').split('\n').flatMap((l) => frameOf(l) ?? []);
  // Node's report is the last thing a dying worker writes: the last header in stderr is its own.
  const headers = [...headersIn(stack ?? ''), ...headersIn(stderr).reverse()];
  const places = [...frames, ...headers, ...locationsIn(message)];
  const best = places.find(isApp) ?? places.find((p) => !isShoal(p));
  if (!best) return undefined;
  const source = best.source ?? headers.find((h) => h.file === best.file && h.line === best.line)?.source;
  return {
    file: best.file, line: best.line,
    ...(best.column === undefined ? {} : { column: best.column }),
    ...(best.frame ? { frame: best.frame } : {}),
    ...(source ? { source } : {}),
  };
}

/** A worker's failed start, as readyOf rejects with it: the message, and where the app failed when that is known. */
export interface StartFailure extends Error { readonly app?: AppSite }

export function startFailure(message: string, stack: string | undefined, stderr: string): StartFailure {
  const app = appSite(stack, stderr, message);
  return Object.assign(new Error(message), app ? { app } : {});
}
