import * as z from 'zod';
import { FIELD_DOCS_PARTS, type FieldDocs } from './field-docs/index.js';
import { forEachField } from './fields.js';
import { Recipe } from './schema.js';

// The JSON Schema of recipes: the shape from the zod schema, each field's words from field-docs/
// (as `title`: type and default, `description`: meaning). The README's recipe reference is made
// from this schema's words (referenceTable), so the three never disagree. `npm run schema`
// writes schema/recipe.schema.json and that README section; tests check both are current.

/** The one table of field words; a path named in two parts is an error. */
function fieldDocs(parts: readonly FieldDocs[]): Map<string, readonly [string, string]> {
  const all = new Map<string, readonly [string, string]>();
  for (const part of parts)
    for (const [p, words] of Object.entries(part)) {
      if (all.has(p)) throw new Error(`field-docs: ${p} is described twice`);
      all.set(p, words);
    }
  return all;
}

/** Sets every field's title and description; fails on a field without words, or words for no field. */
export function describeFields(schema: Record<string, unknown>, parts: readonly FieldDocs[] = FIELD_DOCS_PARTS): Record<string, unknown> {
  const docs = fieldDocs(parts);
  // A copy, so that a node the generator shares between two places gets each place's own words.
  const out = JSON.parse(JSON.stringify(schema)) as Record<string, unknown>;
  const undocumented = new Set<string>();
  const used = new Set<string>();
  forEachField(out, (p, node) => {
    const words = docs.get(p);
    if (!words || !words[0].trim() || !words[1].trim()) return void undocumented.add(p);
    used.add(p);
    node['title'] = words[0];
    node['description'] = words[1];
  });
  const unknown = [...docs.keys()].filter((p) => !used.has(p));
  if (undocumented.size || unknown.length)
    throw new Error(
      [
        ...(undocumented.size ? [`fields without words (a type and a meaning) in src/recipe/field-docs/: ${[...undocumented].join(', ')}`] : []),
        ...(unknown.length ? [`words in src/recipe/field-docs/ for fields the schema does not have: ${unknown.join(', ')}`] : []),
      ].join('; '),
    );
  return out;
}

/** The JSON Schema of recipes (committed as schema/recipe.schema.json). */
export function recipeJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(Recipe, { io: 'input', unrepresentable: 'any', target: 'draft-2020-12' }) as Record<string, unknown>;
  return describeFields({
    $schema: schema['$schema'],
    $id: 'https://dynamo-image.dev/schema/recipe.schema.json',
    title: 'dynamo-image recipe (apiVersion dynamo-image/v1)',
    ...Object.fromEntries(Object.entries(schema).filter(([k]) => k !== '$schema')),
  });
}

export function recipeJsonSchemaText(schema: Record<string, unknown> = recipeJsonSchema()): string {
  return `${JSON.stringify(schema, null, 2)}\n`;
}

const cell = (s: string) => s.replaceAll('|', '\\|');

/** The README's recipe reference: one Markdown table row per field, in the schema's order. */
export function referenceTable(schema: Record<string, unknown>): string {
  const rows = new Map<string, string>();
  forEachField(schema, (p, node) => {
    if (!rows.has(p)) rows.set(p, `| \`${p}\` | ${cell(String(node['title'] ?? ''))} | ${cell(String(node['description'] ?? ''))} |`);
  });
  return ['| field | type / default | meaning |', '|---|---|---|', ...rows.values()].join('\n');
}

export const REFERENCE_START = '<!-- recipe-reference: made by `npm run schema` from the field words in src/recipe/field-docs/ -->';
export const REFERENCE_END = '<!-- /recipe-reference -->';

/** README text with its recipe reference section made anew; fails when the markers are missing. */
export function withReferenceTable(readme: string, schema: Record<string, unknown> = recipeJsonSchema()): string {
  const a = readme.indexOf(REFERENCE_START);
  const b = readme.indexOf(REFERENCE_END);
  if (a < 0 || b < a) throw new Error(`README.md has no ${REFERENCE_START} ... ${REFERENCE_END} section`);
  return `${readme.slice(0, a + REFERENCE_START.length)}\n\n${referenceTable(schema)}\n\n${readme.slice(b)}`;
}
