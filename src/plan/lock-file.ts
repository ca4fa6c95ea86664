import { readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import * as z from 'zod';
import { InputError } from '../errors.js';

// recipe.lock.yaml: the digests of the images a recipe names by tag, so `build --locked` builds
// from exactly those bytes.

export const LOCK_FILE = 'recipe.lock.yaml';

const LockFile = z.strictObject({
  lockVersion: z.literal(1),
  images: z.record(z.string(), z.string().regex(/^sha256:[0-9a-f]{64}$/)),
  /** Images made on this machine and in no registry: their local image id (checked by `--locked`). */
  localImages: z.record(z.string(), z.string().regex(/^sha256:[0-9a-f]{64}$/)).optional(),
});
export type LockFile = z.infer<typeof LockFile>;

export function lockPathFor(recipeFile: string): string {
  return path.join(path.dirname(recipeFile), LOCK_FILE);
}

export async function readLock(recipeFile: string): Promise<LockFile | null> {
  const file = lockPathFor(recipeFile);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  const r = LockFile.safeParse(parse(text));
  if (!r.success)
    throw new InputError(
      [{ code: 'lock.invalid', severity: 'error', file, message: `not a valid lock file: ${r.error.issues[0]?.message}`, hint: 'run dynamo-image lock again' }],
      `${file}: invalid lock file`,
    );
  return r.data;
}

export async function writeLock(recipeFile: string, images: Record<string, string>, localImages: Record<string, string> = {}): Promise<string> {
  const file = lockPathFor(recipeFile);
  const sorted = (r: Record<string, string>) => Object.fromEntries(Object.entries(r).sort(([a], [b]) => (a < b ? -1 : 1)));
  const body = { lockVersion: 1, images: sorted(images), ...(Object.keys(localImages).length ? { localImages: sorted(localImages) } : {}) };
  const text = `# Written by \`dynamo-image lock\`: the digests of the images this recipe names by tag.\n# \`dynamo-image build --locked\` builds from exactly these. Commit it next to the recipe.\n${Object.keys(localImages).length ? '# localImages: made on this machine, in no registry; --locked refuses another image under the tag.\n' : ''}${stringify(body)}`;
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, text);
  await rename(tmp, file);
  return file;
}

/** `ref` pinned by the lock, or null when the lock has no entry. References with a digest stay as they are. */
export function pinned(ref: string, lock: LockFile | null): string | null {
  if (ref.includes('@')) return ref;
  const d = lock?.images[ref];
  return d ? `${ref}@${d}` : null;
}

/** The local image id the lock pins `ref` to (an image made here, in no registry), or null. */
export function lockedLocal(ref: string, lock: LockFile | null): string | null {
  return lock?.localImages?.[ref] ?? null;
}
