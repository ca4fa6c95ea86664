import { LineCounter, parseDocument, visit, type Document } from 'yaml';
import * as z from 'zod';
import type { Issue } from '../errors.js';
import { locate } from './positions.js';
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

function valueAt(data: unknown, path: readonly PropertyKey[]): { found: boolean; value: unknown } {
  let cur: unknown = data;
  for (const k of path) {
    if (cur === null || typeof cur !== 'object' || !(String(k) in (cur as object))) return { found: false, value: undefined };
    cur = (cur as Record<string, unknown>)[String(k)];
  }
  return { found: true, value: cur };
}

function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? `${v.slice(0, 57)}...` : v);
  return `${typeof v} ${String(v)}`;
}

/** Turns zod's issues into ours, with line and column. */
export function schemaIssues(err: z.ZodError, schema: z.ZodType, file: string, doc: Document, lc: LineCounter, data: unknown): Issue[] {
  const out: Issue[] = [];
  for (const zi of err.issues) {
    const path = [...zi.path] as (string | number)[];
    const issue = (message: string, hint?: string, p = path, keyOf = false): Issue => ({
      code: 'recipe.schema',
      severity: 'error',
      file,
      ...locate(doc, lc, p, { keyOf }),
      path: p,
      message,
      ...(hint ? { hint } : {}),
    });
    if (zi.code === 'unrecognized_keys') {
      const known = knownKeysAt(schema, zi.path);
      for (const key of zi.keys) {
        const full = [...path, key];
        const guess = closest(key, known);
        out.push({
          ...issue(`unknown key "${key}"`, guess ? `did you mean "${guess}"?` : known.length ? `valid keys: ${known.join(', ')}` : undefined, full, true),
          code: 'recipe.unknown-key',
        });
      }
      continue;
    }
    if (zi.code === 'invalid_key') {
      const inner = zi.issues[0]?.message ?? 'is not allowed';
      out.push(issue(`key "${String(path[path.length - 1])}" ${inner}`, undefined, path, true));
      continue;
    }
    const { found, value } = valueAt(data, path);
    if (!found || value === undefined) {
      const expected = zi.code === 'invalid_type' ? zi.expected : zi.code === 'invalid_union' ? 'one of the documented forms' : 'a value';
      out.push(issue('is required', `expected ${expected}`));
      continue;
    }
    if (zi.code === 'invalid_type') {
      out.push(
        issue(`expected ${zi.expected}, got ${describeValue(value)}`, typeof value === 'number' && zi.expected === 'string' ? 'quote the value' : undefined),
      );
      continue;
    }
    // Custom messages ("must be ...") read best after the value; zod's own ("Invalid option ...") stand alone.
    const msg = /^[A-Z]/.test(zi.message) ? `${zi.message} (got ${describeValue(value)})` : `${describeValue(value)} ${zi.message}`;
    out.push(issue(msg));
  }
  return out;
}

/** Parses recipe text (already read and size-checked). Pure: no file system access. */
export function parseRecipeText(file: string, text: string): ParseResult {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, uniqueKeys: true, prettyErrors: false, strict: true, merge: false });
  const issues: Issue[] = [];
  const found = [...doc.errors.map((e) => ({ e, severity: 'error' as const })), ...doc.warnings.map((e) => ({ e, severity: 'warning' as const }))];
  for (const { e, severity } of found) {
    const p = lc.linePos(e.pos[0]);
    issues.push({
      code: e.code === 'DUPLICATE_KEY' ? 'yaml.duplicate-key' : 'yaml.syntax',
      severity,
      file,
      line: p?.line ?? 1,
      col: p?.col ?? 1,
      message: e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, ''),
      ...(e.code === 'DUPLICATE_KEY' ? { hint: 'each key may appear once in a mapping' } : {}),
    });
  }
  if (issues.some((i) => i.severity === 'error')) return { ok: false, issues };
  if (doc.contents === null) {
    return {
      ok: false,
      issues: [
        {
          code: 'recipe.empty',
          severity: 'error',
          file,
          line: 1,
          col: 1,
          message: 'the file holds no YAML document',
          hint: 'start from recipes/examples/echo-python/recipe.yaml',
        },
      ],
    };
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIASES });
  } catch (e) {
    // Point at the first alias: where the expansion starts.
    let at = { line: 1, col: 1 };
    visit(doc, {
      Alias(_k, node) {
        if (node.range) at = lc.linePos(node.range[0]);
        return visit.BREAK;
      },
    });
    return {
      ok: false,
      issues: [
        {
          code: 'yaml.alias-bomb',
          severity: 'error',
          file,
          ...at,
          message: `refused: aliases expand too much (${(e as Error).message})`,
          hint: `a recipe may expand at most ${MAX_ALIASES} aliases`,
        },
      ],
    };
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    return {
      ok: false,
      issues: [
        {
          code: 'recipe.not-a-mapping',
          severity: 'error',
          file,
          ...locate(doc, lc, []),
          message: `the document is a ${Array.isArray(data) ? 'list' : typeof data}, expected a mapping of fields`,
          hint: 'a recipe starts with "apiVersion: dynamo-image/v1"',
        },
      ],
    };
  }
  const result = Recipe.safeParse(data);
  if (!result.success) return { ok: false, issues: [...issues, ...schemaIssues(result.error, Recipe, file, doc, lc, data)] };
  return { ok: true, value: { recipe: result.data, doc, lines: lc }, issues };
}
