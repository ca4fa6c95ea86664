import { open, stat } from 'node:fs/promises';
import type { Issue } from '../errors.js';

// Reads a recipe file with the checks a user deserves before any parsing: missing, a directory,
// too large, empty, binary. Each becomes one clear issue, never a stack trace.

export const MAX_RECIPE_BYTES = 1024 * 1024;

export type ReadResult = { ok: true; text: string; bytes: Buffer } | { ok: false; issue: Issue };

export async function readRecipeFile(file: string): Promise<ReadResult> {
  const fail = (code: string, message: string, hint?: string): ReadResult => ({
    ok: false,
    issue: { code, severity: 'error', file, message, ...(hint ? { hint } : {}) },
  });
  let st;
  try {
    st = await stat(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return fail('file.missing', 'no such file', 'give the path of a recipe.yaml');
    if (code === 'EACCES') return fail('file.unreadable', 'permission denied');
    return fail('file.unreadable', `cannot read: ${code ?? (e as Error).message}`);
  }
  if (st.isDirectory()) return fail('file.directory', 'is a directory, not a recipe file', `try ${file.replace(/\/$/, '')}/recipe.yaml`);
  if (!st.isFile()) return fail('file.special', 'is not a regular file');
  if (st.size > MAX_RECIPE_BYTES) return fail('file.too-large', `is ${st.size} bytes; a recipe may be at most ${MAX_RECIPE_BYTES} bytes`, 'is this the right file?');
  const fh = await open(file, 'r');
  let bytes: Buffer;
  try {
    bytes = await fh.readFile();
  } finally {
    await fh.close();
  }
  if (bytes.length === 0 || bytes.toString('utf8').trim() === '') return fail('recipe.empty', 'is empty', 'start from recipes/examples/echo-python/recipe.yaml');
  if (bytes.includes(0)) return fail('file.binary', 'is a binary file, not YAML text');
  const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  if (text.includes('\uFFFD')) return fail('file.binary', 'is not valid UTF-8 text');
  return { ok: true, text, bytes };
}
