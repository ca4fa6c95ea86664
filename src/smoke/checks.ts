import { parseSpecifier, satisfies } from '../versions/pep440.js';

// Pure checks of what came back from a container.

export interface OutputMatch {
  contains?: string | undefined;
  notContains?: string | undefined;
  matches?: string | undefined;
}

/** Problems of a text against a match spec; empty when it matches. */
export function checkOutput(label: string, text: string, m: OutputMatch | undefined): { expected: string; problem: string }[] {
  if (!m) return [];
  const out: { expected: string; problem: string }[] = [];
  if (m.contains !== undefined && !text.includes(m.contains))
    out.push({ expected: `${label} contains ${JSON.stringify(m.contains)}`, problem: `${label} does not contain ${JSON.stringify(m.contains)}` });
  if (m.notContains !== undefined && text.includes(m.notContains))
    out.push({ expected: `${label} does not contain ${JSON.stringify(m.notContains)}`, problem: `${label} contains ${JSON.stringify(m.notContains)}` });
  if (m.matches !== undefined && !new RegExp(m.matches, 'm').test(text))
    out.push({ expected: `${label} matches /${m.matches}/`, problem: `${label} does not match /${m.matches}/` });
  return out;
}

export function extractVersion(text: string, regex: string): string | null {
  const m = new RegExp(regex, 'm').exec(text);
  return m ? (m[1] ?? m[0]) : null;
}

export function versionSatisfies(version: string, constraint: string): boolean {
  const s = parseSpecifier(constraint);
  return s.ok && satisfies(version, s.spec);
}

/** What an exit code means, for people reading a failure. */
export function explainExit(code: number, oomKilled: boolean): string {
  if (oomKilled) return `${code}: killed: out of memory (the container hit its memory limit)`;
  switch (code) {
    case 0:
      return '0: success';
    case 1:
      return '1: general error';
    case 2:
      return '2: misuse (bad arguments)';
    case 126:
      return '126: the command was found but could not be executed (permission denied or not executable)';
    case 127:
      return '127: command not found in the image';
    case 137:
      return '137: killed by SIGKILL (timeout, docker kill, or the kernel)';
    case 139:
      return '139: segmentation fault (SIGSEGV)';
    case 143:
      return '143: terminated by SIGTERM';
    default:
      return code > 128 && code < 160 ? `${code}: killed by signal ${code - 128}` : `${code}: the command failed`;
  }
}

/** Follows a dotted path (`choices.0.text`) through parsed JSON. */
export function jsonAt(value: unknown, path: string): { found: boolean; value: unknown } {
  let cur: unknown = value;
  for (const part of path.split('.')) {
    if (Array.isArray(cur) && /^\d+$/.test(part) && Number(part) < cur.length) cur = cur[Number(part)];
    else if (cur !== null && typeof cur === 'object' && !Array.isArray(cur) && Object.hasOwn(cur, part)) cur = (cur as Record<string, unknown>)[part];
    else return { found: false, value: undefined };
  }
  return { found: true, value: cur };
}

export interface JsonCheck {
  path: string;
  equals?: unknown;
  exists?: boolean | undefined;
  type?: 'string' | 'number' | 'boolean' | 'null' | 'array' | 'object' | undefined;
  matches?: string | undefined;
  length?: number | { min?: number | undefined; max?: number | undefined } | undefined;
}

const jsonType = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

/** Checks on a JSON answer; each problem as what was expected and what was there. */
export function checkJson(doc: unknown, checks: JsonCheck[]): { e: string; a: string }[] {
  const out: { e: string; a: string }[] = [];
  for (const j of checks) {
    const got = jsonAt(doc, j.path);
    const shown = got.found ? `${j.path} = ${JSON.stringify(got.value)?.slice(0, 200)}` : `${j.path} missing`;
    if (j.exists === false) {
      if (got.found) out.push({ e: `${j.path} absent`, a: shown });
      continue;
    }
    if (!got.found) {
      out.push({ e: j.exists ? `${j.path} present` : `${j.path} present and checked`, a: shown });
      continue;
    }
    const v = got.value;
    if ('equals' in j && j.equals !== undefined && !deepEqual(v, j.equals)) out.push({ e: `${j.path} = ${JSON.stringify(j.equals)}`, a: shown });
    if (j.type !== undefined && jsonType(v) !== j.type) out.push({ e: `${j.path} of type ${j.type}`, a: `${j.path} of type ${jsonType(v)}` });
    if (j.matches !== undefined && (typeof v !== 'string' || !new RegExp(j.matches, 'm').test(v)))
      out.push({ e: `${j.path} matches /${j.matches}/`, a: shown });
    if (j.length !== undefined) {
      const n = typeof v === 'string' || Array.isArray(v) ? v.length : null;
      const { min, max } = typeof j.length === 'number' ? { min: j.length, max: j.length } : j.length;
      const want = typeof j.length === 'number' ? `length ${j.length}` : `length ${min ?? 0}..${max ?? 'any'}`;
      if (n === null) out.push({ e: `${j.path} of ${want}`, a: `${j.path} of type ${jsonType(v)} (no length)` });
      else if ((min !== undefined && n < min) || (max !== undefined && n > max)) out.push({ e: `${j.path} of ${want}`, a: `${j.path} of length ${n}` });
    }
  }
  return out;
}

export function deepEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export function tailLines(text: string, n = 20): string[] {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  return lines.slice(-n);
}

/** `1g`, `512m`, `1048576` -> bytes. */
export function parseBytes(s: string): number {
  const m = /^([0-9]+)([kmg]?)$/i.exec(s.trim());
  if (!m) throw new Error(`bug: unvalidated size ${s}`);
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g'];
  return Number(m[1]) * mult;
}

export function parseDuration(s: string): number {
  const m = /^([0-9]+)(ms|s|m|h)$/.exec(s);
  if (!m) throw new Error(`bug: unvalidated duration ${s}`);
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
}
