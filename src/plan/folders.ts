import { createHash } from 'node:crypto';
import { lstat, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { normalizeRelative } from '../recipe/schema.js';
import type { Wanted } from './input-list.js';
import { MAX_FILES_PER_FOLDER } from './limits.js';

// `files` folder entries: the files below a folder in a stable order, their listing digest, and the
// folder entries of a recipe expanded to their files.

/**
 * The files below a folder, as paths relative to it, in code-unit order (the same on every
 * machine). Links are listed, not followed. Stops past `limit` (the caller refuses the folder).
 */
export async function folderFiles(dir: string, limit = MAX_FILES_PER_FOLDER): Promise<string[]> {
  const files: string[] = [];
  const walk = async (rel: string) => {
    for (const name of (await readdir(path.join(dir, rel))).sort()) {
      if (files.length > limit) return;
      const r = rel ? `${rel}/${name}` : name;
      // lstat: a link to a folder is not followed (a loop would walk forever); it is listed and
      // gets the same checks as any input (inside the folder, a regular file).
      const s = await lstat(path.join(dir, r)).catch(() => null);
      if (s?.isDirectory()) await walk(r);
      else files.push(r);
    }
  };
  await walk('');
  return files.sort();
}

/**
 * The digest of a `files` folder entry: sha256 over its listing, one `<sha256>  <path below the
 * folder>` line per file in path order (what `sha256sum` prints, run inside the folder). Pure.
 */
export function folderDigest(files: { path: string; sha256: string }[]): string {
  const listing = [...files]
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
    .map((f) => `${f.sha256}  ${f.path}\n`)
    .join('');
  return createHash('sha256').update(listing).digest('hex');
}

/**
 * A `files` entry that names a folder stands for every regular file below it, in code-unit order
 * of their paths (the same on every machine), each with its destination below the folder's.
 */
export interface PinnedFolder {
  source: string;
  sha256: string;
  fieldPath: (string | number)[];
  count: number;
}

export async function expandFolders(
  wanted: Wanted[],
  recipeDir: string,
): Promise<{ list: Wanted[]; empty: Wanted[]; tooMany: Wanted[]; folders: PinnedFolder[]; archFolders: Wanted[] }> {
  const folders: PinnedFolder[] = [];
  const archFolders: Wanted[] = [];
  const list: Wanted[] = [];
  const empty: Wanted[] = [];
  const tooMany: Wanted[] = [];
  for (const w of wanted) {
    const st = w.role === 'file' ? await stat(path.join(recipeDir, w.source)).catch(() => null) : null;
    if (!st?.isDirectory()) {
      list.push(w);
      continue;
    }
    if (w.archSource) {
      archFolders.push(w);
      continue;
    }
    // Past the limit the folder is refused (collectInputs): no need to list millions of files.
    const files = await folderFiles(path.join(recipeDir, w.source));
    if (!files.length) empty.push(w);
    if (files.length > MAX_FILES_PER_FOLDER) {
      tooMany.push(w);
      continue;
    }
    const folder = { source: normalizeRelative(w.source), destination: w.destination!.replace(/\/+$/, '') };
    // The entry's sha256 is the folder's (its listing), checked once every file is hashed.
    const { sha256: folderSha, ...each } = w;
    if (folderSha !== undefined) folders.push({ source: folder.source, sha256: folderSha, fieldPath: w.fieldPath, count: files.length });
    for (const r of files) list.push({ ...each, source: `${folder.source}/${r}`, destination: `${folder.destination}/${r}`, folder });
  }
  return { list, empty, tooMany, folders, archFolders };
}
