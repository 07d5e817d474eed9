/**
 * A strict parser of the Prometheus text exposition format (0.0.4), for
 * tests that read a real /metrics answer. prom-client has no parser, so this
 * one checks what a Prometheus server would refuse: every sample belongs to
 * a family declared by # TYPE before it, label values are quoted and
 * escaped, values are numbers, names are legal, no sample repeats, and each
 * histogram's buckets grow and end in +Inf equal to its _count.
 */

export interface Sample { readonly name: string; readonly labels: Readonly<Record<string, string>>; readonly value: number }
export interface Family { readonly name: string; readonly type: string; readonly help: string; readonly samples: Sample[] }

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

function parseValue(s: string, line: string): number {
  if (s === '+Inf') return Infinity;
  if (s === '-Inf') return -Infinity;
  if (s === 'NaN') return NaN;
  const v = Number(s);
  if (s === '' || Number.isNaN(v)) throw new Error(`bad value in: ${line}`);
  return v;
}

function parseLabels(s: string, line: string): Record<string, string> {
  const labels: Record<string, string> = {};
  let i = 0;
  while (i < s.length) {
    const m = /^([a-zA-Z_][a-zA-Z0-9_]*)="/.exec(s.slice(i));
    if (!m) throw new Error(`bad label in: ${line}`);
    i += m[0].length;
    let v = '';
    for (;;) {
      const c = s[i];
      if (c === undefined) throw new Error(`unterminated label value in: ${line}`);
      if (c === '\\') { const n = s[i + 1]; v += n === 'n' ? '\n' : n ?? ''; i += 2; continue; }
      if (c === '"') { i++; break; }
      v += c;
      i++;
    }
    if (m[1]! in labels) throw new Error(`label ${m[1]} twice in: ${line}`);
    labels[m[1]!] = v;
    if (s[i] === ',') i++;
    else if (i < s.length) throw new Error(`bad label separator in: ${line}`);
  }
  return labels;
}

/** The family a sample name belongs to (histogram and summary samples carry suffixes). */
function familyOf(name: string, families: Map<string, Family>): Family | undefined {
  const f = families.get(name);
  if (f) return f;
  const m = /^(.*)_(bucket|sum|count)$/.exec(name);
  const base = m ? families.get(m[1]!) : undefined;
  if (base && (base.type === 'histogram' || (base.type === 'summary' && m![2] !== 'bucket'))) return base;
  return undefined;
}

export function parsePrometheus(text: string): Map<string, Family> {
  if (!text.endsWith('\n')) throw new Error('the exposition must end with a newline');
  const families = new Map<string, Family>();
  const seen = new Set<string>();
  const help = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('# HELP ')) {
      const [, name, h] = /^# HELP (\S+) ?(.*)$/.exec(line) ?? [];
      if (!name || !NAME.test(name)) throw new Error(`bad HELP: ${line}`);
      help.set(name, h ?? '');
      continue;
    }
    if (line.startsWith('# TYPE ')) {
      const [, name, type] = /^# TYPE (\S+) (\S+)$/.exec(line) ?? [];
      if (!name || !NAME.test(name) || !TYPES.has(type ?? '')) throw new Error(`bad TYPE: ${line}`);
      if (families.has(name)) throw new Error(`family ${name} declared twice`);
      families.set(name, { name, type: type!, help: help.get(name) ?? '', samples: [] });
      continue;
    }
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: -?\d+)?$/.exec(line);
    if (!m) throw new Error(`bad sample line: ${line}`);
    const labels = parseLabels(m[2] ?? '', line);
    const key = `${m[1]}${JSON.stringify(Object.entries(labels).sort())}`;
    if (seen.has(key)) throw new Error(`sample twice: ${line}`);
    seen.add(key);
    const fam = familyOf(m[1]!, families);
    if (!fam) throw new Error(`sample of an undeclared family: ${line}`);
    fam.samples.push({ name: m[1]!, labels, value: parseValue(m[3]!, line) });
  }
  for (const f of families.values()) if (f.type === 'histogram') checkHistogram(f);
  return families;
}

function checkHistogram(f: Family): void {
  const groups = new Map<string, Sample[]>();
  for (const s of f.samples.filter((x) => x.name === `${f.name}_bucket`)) {
    const { le, ...rest } = s.labels;
    if (le === undefined) throw new Error(`${f.name}: a bucket without le`);
    const k = JSON.stringify(Object.entries(rest).sort());
    groups.set(k, [...(groups.get(k) ?? []), s]);
  }
  for (const [k, buckets] of groups) {
    const sorted = [...buckets].sort((a, b) => parseValue(a.labels.le!, '') - parseValue(b.labels.le!, ''));
    for (let i = 1; i < sorted.length; i++) if (sorted[i]!.value < sorted[i - 1]!.value) throw new Error(`${f.name}: buckets shrink`);
    const last = sorted.at(-1)!;
    if (last.labels.le !== '+Inf') throw new Error(`${f.name}: no +Inf bucket`);
    const count = f.samples.find((s) => s.name === `${f.name}_count` && JSON.stringify(Object.entries(s.labels).sort()) === k);
    if (!count || count.value !== last.value) throw new Error(`${f.name}: _count differs from the +Inf bucket`);
  }
}

/** The one value of `name` whose labels include `labels` (throws when there is none or several). */
export function valueOf(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number {
  const fam = familyOf(name, families);
  const hits = (fam?.samples ?? []).filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (hits.length !== 1) throw new Error(`${hits.length} samples of ${name} ${JSON.stringify(labels)}`);
  return hits[0]!.value;
}

/** The sum of every sample of `name` (e.g. a counter over all its label sets). */
export const sumOf = (families: Map<string, Family>, name: string): number =>
  (familyOf(name, families)?.samples ?? []).filter((s) => s.name === name).reduce((a, s) => a + s.value, 0);
