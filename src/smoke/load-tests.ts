import type * as z from 'zod';
import { InputError } from '../errors.js';
import { parseRecipeText, schemaIssues } from '../recipe/parse.js';
import { readRecipeFile } from '../recipe/read.js';
import { Smoke } from '../recipe/schema.js';
import { LineCounter, parseDocument } from 'yaml';

// `--tests FILE`: a YAML file holding what a recipe's `smoke:` holds (timeout, limits, tests).
// Validated like recipes: file, line, field, hint.

export type SmokeSettings = z.output<typeof Smoke>;

export async function loadTestsFile(file: string): Promise<SmokeSettings> {
  const read = await readRecipeFile(file);
  if (!read.ok) throw new InputError([read.issue], `${file}: invalid tests file`);
  // Reuse the recipe parser's YAML checks (syntax, duplicates, aliases) through a wrapper document.
  const lc = new LineCounter();
  const doc = parseDocument(read.text, { lineCounter: lc, uniqueKeys: true, strict: true });
  if (doc.errors.length) {
    const r = parseRecipeText(file, read.text);
    throw new InputError(r.issues, `${file}: invalid tests file`);
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    throw new InputError([{ code: 'yaml.alias-bomb', severity: 'error', file, message: `refused: ${(e as Error).message}` }], `${file}: invalid tests file`);
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data))
    throw new InputError(
      [
        {
          code: 'tests.not-a-mapping',
          severity: 'error',
          file,
          line: 1,
          col: 1,
          message: 'expected a mapping with "tests:" (and optionally "timeout:", "limits:")',
          hint: "the same shape as a recipe's smoke: section",
        },
      ],
      `${file}: invalid tests file`,
    );
  const r = Smoke.safeParse(data);
  if (!r.success) throw new InputError(schemaIssues(r.error, Smoke, file, doc, lc, data), `${file}: invalid tests file`);
  return r.data;
}
