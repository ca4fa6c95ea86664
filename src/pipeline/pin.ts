import { readFile, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { isScalar, LineCounter, parseDocument } from 'yaml';
import { InputError, UsageError } from '../errors.js';
import { hashFile } from '../plan/digest-cache.js';
import { folderDigest, folderFiles } from '../plan/folders.js';
import { inputsOf } from '../plan/input-list.js';
import { loadRecipe } from '../plan/make-plan.js';

// `pin`: each local input's sha256, recomputed and put back into the recipe. The inputs are the
// plan's own list (plan/input-list.ts inputsOf), so a new kind of input is pinned as soon as the plan
// hashes it. Only those values change, byte for byte where the YAML document says the value
// stands: comments, order, quoting and layout stay as written.

export interface PinChange {
  field: string;
  from: string;
  to: string;
  start: number;
  end: number;
}

type Path = (string | number)[];

async function digestOf(dir: string, p: string): Promise<string> {
  const abs = path.join(dir, p);
  if (!(await stat(abs)).isDirectory()) return hashFile(abs);
  const files = await folderFiles(abs);
  return folderDigest(await Promise.all(files.map(async (f) => ({ path: f, sha256: await hashFile(path.join(abs, f)) }))));
}

/** What `pin` would change in the recipe (nothing written). */
export async function planPins(file: string): Promise<{ text: string; changes: PinChange[] }> {
  const l = await loadRecipe(file);
  if (!l.ok) throw new InputError(l.issues, `${file}: cannot pin`);
  const text = await readFile(file, 'utf8');
  const doc = parseDocument(text, { lineCounter: new LineCounter() });
  const targets: { shaAt: Path; file: string; field: Path }[] = [];
  const seen = new Set<string>();
  for (const w of inputsOf(l.loaded.parsed.recipe)) {
    if (w.platform && w.shaField) {
      // A per-platform file (a path with {arch}): one digest for each architecture the recipe writes.
      const at = w.shaField.slice(0, -1);
      if (seen.has(JSON.stringify(at))) continue;
      seen.add(JSON.stringify(at));
      const template = String(doc.getIn(w.fieldPath));
      const map = doc.getIn(at);
      const keys =
        map && typeof map === 'object' && 'items' in map
          ? (map as { items: { key: unknown }[] }).items.map((i) => String(isScalar(i.key) ? i.key.value : i.key))
          : [];
      for (const arch of keys) targets.push({ shaAt: [...at, arch], file: template.replaceAll('{arch}', arch), field: w.fieldPath });
      continue;
    }
    const shaAt = w.shaField ?? [...w.fieldPath.slice(0, -1), 'sha256'];
    // files[]: pinned only where the recipe pins it (pin replaces values, it adds none).
    if (w.role === 'file' && doc.getIn(shaAt) === undefined) continue;
    targets.push({ shaAt, file: w.source, field: w.fieldPath });
  }
  const changes: PinChange[] = [];
  for (const t of targets) {
    const digest = await digestOf(path.dirname(file), t.file).catch(() => {
      throw new UsageError(`${t.field.join('.')}: ${t.file} cannot be read`, 'pin only records what is there');
    });
    const current = doc.getIn(t.shaAt);
    const had = typeof current === 'string' ? current : '';
    const want = had.startsWith('sha256:') ? `sha256:${digest}` : digest;
    if (had === want) continue;
    const scalar = doc.getIn(t.shaAt, true);
    if (!isScalar(scalar) || !scalar.range)
      throw new UsageError(`${t.shaAt.join('.')}: add the field first (any value); pin replaces values, it does not add keys`);
    changes.push({ field: t.shaAt.join('.'), from: had, to: want, start: scalar.range[0], end: scalar.range[1] });
  }
  return { text, changes };
}

/** Writes the changes: only the bytes of each value (in its own quoting), atomically. */
export async function writePins(file: string, text: string, changes: PinChange[]): Promise<void> {
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
