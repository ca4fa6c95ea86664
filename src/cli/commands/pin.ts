import { readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { isScalar, LineCounter, parseDocument } from 'yaml';
import { ExitCode, InputError, UsageError } from '../../errors.js';
import { stat } from 'node:fs/promises';
import { hashFile } from '../../plan/digest-cache.js';
import { folderDigest, folderFiles } from '../../plan/inputs.js';
import { loadRecipe } from '../../plan/make-plan.js';
import type { Output } from '../output.js';

// `dynamo-image pin RECIPE`: after rebuilding a wheel, a dependency or Dynamo wheel or a binary, puts each local input's sha256
// back into the recipe. Only those values change, byte for byte where the YAML document says the
// value stands: comments, order, quoting and layout stay as written.

const FIXED = [
  ['engine', 'wheel'],
  ['engine', 'binary'],
  ['dependencies', 'requirements'],
] as const;
/** Lists of pinned files: each entry (or its `key`) has path and sha256. */
const LISTS: [string[], string[]][] = [
  [['dependencies', 'wheels'], []],
  [['dynamoSource', 'wheels'], []],
  [['aptRepositories'], ['key']],
];

export async function runPin(file: string, opts: { json?: boolean }, o: Output): Promise<number> {
  const l = await loadRecipe(file);
  if (!l.ok) throw new InputError(l.issues, `${file}: cannot pin`);
  const text = await readFile(file, 'utf8');
  const doc = parseDocument(text, { lineCounter: new LineCounter() });
  const changes: { field: string; from: string; to: string; start: number; end: number }[] = [];
  const pinned: (string | number)[][] = FIXED.map((f) => [...f]);
  for (const [list, suffix] of LISTS) {
    const node = doc.getIn([...list]);
    const count = node && typeof node === 'object' && 'items' in node ? (node as { items: unknown[] }).items.length : 0;
    for (let i = 0; i < count; i++) pinned.push([...list, i, ...suffix]);
  }
  // A per-platform binary (path with {arch}): one digest per architecture key.
  const targets: { at: (string | number)[]; shaAt: (string | number)[]; file: string; field?: string }[] = [];
  for (const at of pinned) {
    const node = doc.getIn([...at]);
    if (!node) continue;
    const p = doc.getIn([...at, 'path']);
    if (typeof p !== 'string') continue;
    const shaNode = doc.getIn([...at, 'sha256']);
    if (p.includes('{arch}') && shaNode && typeof shaNode === 'object' && 'items' in shaNode) {
      for (const item of (shaNode as { items: { key: unknown }[] }).items) {
        const arch = String(isScalar(item.key) ? item.key.value : item.key);
        targets.push({ at, shaAt: [...at, 'sha256', arch], file: p.replaceAll('{arch}', arch) });
      }
    } else targets.push({ at, shaAt: [...at, 'sha256'], file: p });
  }
  // files[]: an entry pinned by sha256 (pin replaces values, it adds none); a folder's digest is over its listing.
  const filesNode = doc.getIn(['files']);
  const fileCount = filesNode && typeof filesNode === 'object' && 'items' in filesNode ? (filesNode as { items: unknown[] }).items.length : 0;
  for (let i = 0; i < fileCount; i++) {
    const src = doc.getIn(['files', i, 'source']);
    if (typeof src === 'string' && doc.getIn(['files', i, 'sha256']) !== undefined) targets.push({ at: ['files', i], shaAt: ['files', i, 'sha256'], file: src, field: 'source' });
  }
  const digestOf = async (p: string): Promise<string> => {
    const abs = path.join(path.dirname(file), p);
    if (!(await stat(abs)).isDirectory()) return hashFile(abs);
    const files = await folderFiles(abs);
    return folderDigest(await Promise.all(files.map(async (f) => ({ path: f, sha256: await hashFile(path.join(abs, f)) }))));
  };
  for (const { at, shaAt, file: p, field } of targets) {
    const digest = await digestOf(p).catch(() => {
      throw new UsageError(`${[...at, field ?? 'path'].join('.')}: ${p} cannot be read`, 'pin only records what is there');
    });
    const current = doc.getIn(shaAt);
    const had = typeof current === 'string' ? current : '';
    const want = had.startsWith('sha256:') ? `sha256:${digest}` : digest;
    if (had === want) continue;
    const scalar = doc.getIn(shaAt, true);
    if (!isScalar(scalar) || !scalar.range) throw new UsageError(`${shaAt.join('.')}: add the field first (any value); pin replaces values, it does not add keys`);
    changes.push({ field: shaAt.join('.'), from: had, to: want, start: scalar.range[0], end: scalar.range[1] });
  }
  if (opts.json) o.out(JSON.stringify({ file, changes: changes.map(({ field, from, to }) => ({ field, from, to })) }));
  else if (!changes.length) o.err(`${file}: every sha256 matches its file`);
  else for (const c of changes) o.err(`${file}: ${c.field} ${c.from.slice(0, 19) || '(none)'}... -> ${c.to.slice(0, 19)}...`);
  if (changes.length) {
    // Only the bytes of each value change (in its own quoting): the rest of the file stays as written.
    let out = text;
    for (const c of [...changes].sort((a, b) => b.start - a.start)) {
      const old = text.slice(c.start, c.end);
      const quote = old.startsWith('"') ? '"' : old.startsWith("'") ? "'" : '';
      out = `${out.slice(0, c.start)}${quote}${c.to}${quote}${out.slice(c.end)}`;
    }
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, out);
    await rename(tmp, file);
  }
  return ExitCode.ok;
}
