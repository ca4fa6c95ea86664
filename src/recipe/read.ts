import { readFileSync, statSync } from 'node:fs';
import type { Issue, IssueCode } from '../errors.js';

// Reads a recipe file with the checks a user deserves before any parsing: missing, a directory,
// too large, empty, binary. Each becomes one clear issue, never a stack trace. The reads are
// synchronous: a recipe is at most 1 MiB, and `matrix` over 500 recipes spent more time waiting for
// the thread pool's answers (stat, open, read, close) than reading.

export const MAX_RECIPE_BYTES = 1024 * 1024;

/** A file system error code -> issue code, message and hint that say what the user can do. */
export type FileIssueCode = Extract<IssueCode, `file.${string}`>;

export function fsFailure(code: string | undefined, what: string): [FileIssueCode, string, string | undefined] {
  switch (code) {
    case 'ENOENT':
      return ['file.missing', 'no such file', what === 'recipe' ? 'give the path of a recipe.yaml' : undefined];
    case 'EACCES':
    case 'EPERM':
      return ['file.unreadable', 'permission denied', `make the ${what} (and the folders above it) readable by this user`];
    case 'ELOOP':
      return ['file.symlink-loop', 'is a symbolic link loop', 'point the link at a real file'];
    case 'ENOTDIR':
      return ['file.missing', 'a part of the path is not a folder', undefined];
    case 'ENAMETOOLONG':
      return ['file.unreadable', 'the path is too long', undefined];
    default:
      return ['file.unreadable', `cannot read it (${code ?? 'unknown error'})`, undefined];
  }
}

export type ReadResult = { ok: true; text: string; bytes: Buffer } | { ok: false; issue: Issue };

export async function readRecipeFile(file: string): Promise<ReadResult> {
  const fail = (code: FileIssueCode | 'recipe.empty', message: string, hint?: string): ReadResult => ({
    ok: false,
    issue: { code, severity: 'error', file, message, ...(hint ? { hint } : {}) },
  });
  let st;
  try {
    st = statSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return fail(...fsFailure(code, 'recipe'));
  }
  if (st.isDirectory()) {
    const inside = `${file.replace(/\/$/, '')}/recipe.yaml`;
    let has = false;
    try {
      has = statSync(inside).isFile();
    } catch {
      // no recipe.yaml inside
    }
    return fail(
      'file.directory',
      'is a directory, not a recipe file',
      has ? `try ${inside}` : 'it holds no recipe.yaml; `dynamo-image matrix DIR` finds recipes in subfolders',
    );
  }
  if (!st.isFile()) return fail('file.special', 'is not a regular file');
  if (st.size > MAX_RECIPE_BYTES)
    return fail('file.too-large', `is ${st.size} bytes; a recipe may be at most ${MAX_RECIPE_BYTES} bytes`, 'is this the right file?');
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    return fail(...fsFailure((e as NodeJS.ErrnoException).code, 'recipe'));
  }
  if (bytes.length === 0 || bytes.toString('utf8').trim() === '')
    return fail('recipe.empty', 'is empty', 'start from recipes/examples/echo-python/recipe.yaml');
  if (bytes.includes(0)) return fail('file.binary', 'is a binary file, not YAML text');
  let text: string;
  try {
    // Fatal decoding: invalid bytes are refused, a literal U+FFFD (valid UTF-8) is text like any other.
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return fail('file.binary', 'is not valid UTF-8 text');
  }
  return { ok: true, text, bytes };
}
