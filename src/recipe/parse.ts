import { LineCounter, parseDocument, type Document } from 'yaml';
import { z } from 'zod';
import type { Issue } from '../errors.js';
import { formatPath, locate } from './positions.js';
import { closest } from './suggest.js';
import { Recipe } from './schema.js';

export interface ParsedRecipe {
  recipe: Recipe;
  doc: Document;
  lines: LineCounter;
}

export type ParseResult = { ok: true; value: ParsedRecipe; issues: Issue[] } | { ok: false; issues: Issue[] };

const MAX_ALIASES = 100;

/** Keys an object schema accepts at a path, for "did you mean". */
function knownKeysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let s: z.ZodType | undefined = schema;
  const unwrap = (t: z.ZodType): z.ZodType => {
    let cur: z.ZodType = t;
    for (let i = 0; i < 8; i++) {
      const def = (cur as unknown as { _zod: { def: { type: string; innerType?: z.ZodType } } })._zod.def;
      if ((def.type === 'optional' || def.type === 'default' || def.type === 'nullable' || def.type === 'prefault') && def.innerType) cur = def.innerType;
      else break;
    }
    return cur;
  };
  for (const k of path) {
    if (!s) return [];
    s = unwrap(s);
    if (s instanceof z.ZodObject) s = (s.shape as Record<string, z.ZodType>)[String(k)];
    else if (s instanceof z.ZodArray) s = s.element as z.ZodType;
    else if (s instanceof z.ZodRecord) s = s.valueType as z.ZodType;
    else return [];
  }
  if (!s) return [];
  s = unwrap(s);
  if (s instanceof z.ZodObject) return Object.keys(s.shape);
  return [];
}

/** Turns zod's issues into ours, with line and column. */
export function schemaIssues(err: z.ZodError, schema: z.ZodType, file: string, doc: Document, lc: LineCounter, pathPrefix: PropertyKey[] = []): Issue[] {
  const out: Issue[] = [];
  for (const zi of err.issues) {
    const path = [...pathPrefix, ...zi.path] as (string | number)[];
    if (zi.code === 'unrecognized_keys') {
      const known = knownKeysAt(schema, zi.path);
      for (const key of zi.keys) {
        const full = [...path, key];
        const pos = locate(doc, lc, full, { keyOf: true });
        const guess = closest(key, known);
        out.push({
          code: 'recipe.unknown-key',
          severity: 'error',
          file,
          ...pos,
          path: formatPath(full),
          message: `unknown key "${key}"`,
          hint: guess ? `did you mean "${guess}"?` : known.length ? `valid keys: ${known.join(', ')}` : undefined,
        } as Issue);
      }
      continue;
    }
    const pos = locate(doc, lc, path);
    let message = zi.message;
    let hint: string | undefined;
    if (zi.code === 'invalid_type' && zi.input === undefined) {
      message = 'is required';
      hint = `expected ${zi.expected}`;
    } else if (zi.code === 'invalid_union' && 'discriminator' in zi) {
      message = `${zi.message}`;
    }
    const value = zi.input;
    const shown = value === undefined || typeof value === 'object' ? '' : ` (got ${JSON.stringify(value)})`;
    out.push({
      code: 'recipe.schema',
      severity: 'error',
      file,
      ...pos,
      path: formatPath(path),
      message: message.startsWith('Invalid') || message.startsWith('Too') || message === 'is required' ? `${message}${shown}` : `${JSON.stringify(value)} ${message}`,
      ...(hint ? { hint } : {}),
    });
  }
  return out;
}

/** Parses recipe text (already read and size-checked). Pure: no file system access. */
export function parseRecipeText(file: string, text: string): ParseResult {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, uniqueKeys: true, prettyErrors: false, strict: true, merge: false });
  const issues: Issue[] = [];
  for (const e of [...doc.errors, ...doc.warnings]) {
    const p = e.linePos?.[0];
    issues.push({
      code: e.code === 'DUPLICATE_KEY' ? 'yaml.duplicate-key' : 'yaml.syntax',
      severity: doc.errors.includes(e as never) ? 'error' : 'warning',
      file,
      line: p?.line ?? 1,
      col: p?.col ?? 1,
      message: e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, ''),
      ...(e.code === 'DUPLICATE_KEY' ? { hint: 'each key may appear once in a mapping' } : {}),
    });
  }
  if (issues.some((i) => i.severity === 'error')) return { ok: false, issues };
  if (doc.contents === null) {
    return { ok: false, issues: [{ code: 'recipe.empty', severity: 'error', file, line: 1, col: 1, message: 'the file holds no YAML document', hint: 'start from recipes/examples/echo-python/recipe.yaml' }] };
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIASES });
  } catch (e) {
    return {
      ok: false,
      issues: [{ code: 'yaml.alias-bomb', severity: 'error', file, line: 1, col: 1, message: `refused: ${(e as Error).message}`, hint: `a recipe may expand at most ${MAX_ALIASES} aliases` }],
    };
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    return { ok: false, issues: [{ code: 'recipe.not-a-mapping', severity: 'error', file, line: 1, col: 1, message: `the document is a ${Array.isArray(data) ? 'list' : typeof data}, expected a mapping of fields`, hint: 'a recipe starts with "apiVersion: dynamo-image/v1"' }] };
  }
  const result = Recipe.safeParse(data);
  if (!result.success) return { ok: false, issues: [...issues, ...schemaIssues(result.error, Recipe, file, doc, lc)] };
  return { ok: true, value: { recipe: result.data, doc, lines: lc }, issues };
}
