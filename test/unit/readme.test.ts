import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIELD_DOCS_PARTS } from '../../src/recipe/field-docs/index.js';
import { fieldPaths } from '../../src/recipe/fields.js';
import { describeFields, recipeJsonSchema, referenceTable, withReferenceTable } from '../../src/recipe/json-schema.js';
import { ROOT } from '../support/cli.js';

const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');

describe('README', () => {
  it('the recipe reference is the one npm run schema makes from the schema, a row for every field', () => {
    const schema = recipeJsonSchema();
    const paths = fieldPaths(schema);
    expect(paths.length).toBeGreaterThan(100);
    // Stale: run `npm run schema` (it writes schema/recipe.schema.json and this README section).
    expect(readme).toBe(withReferenceTable(readme, schema));
    const missing = paths.filter((p) => !readme.includes(`| \`${p}\` |`));
    expect(missing).toEqual([]);
  });

  it("every field's row carries the words the JSON Schema gives it", () => {
    const schema = recipeJsonSchema();
    const props = schema['properties'] as Record<string, Record<string, unknown>>;
    expect(props['engine']!['title']).toBe('mapping');
    expect(referenceTable(schema)).toContain(`| \`engine\` | mapping | ${String(props['engine']!['description'])} |`);
    // A `|` in the words stays inside its cell.
    expect(referenceTable(schema)).toContain('\\| LC_ALL=C sort');
  });

  it('documents every exit code the CLI uses', () => {
    for (const code of ['| 0 |', '| 1 |', '| 2 |', '| 3 |', '130 / 143']) expect(readme).toContain(code);
  });

  it('CI runs the test command the README gives', () => {
    const ci = readFileSync(path.join(ROOT, '.ci', 'run'), 'utf8');
    expect(readme).toContain('npm test          # runs the tests');
    expect(ci).toMatch(/^npm test\b/m);
  });
});

describe('field words (src/recipe/field-docs/)', () => {
  const schema = { type: 'object', properties: { a: { type: 'string' }, b: { type: 'object', properties: { c: { type: 'number' } } } } };
  it('sets title and description on every field, in copies of shared nodes', () => {
    const shared = { type: 'string' };
    const out = describeFields({ type: 'object', properties: { x: shared, y: shared } }, [{ x: ['text', 'the x'] }, { y: ['text', 'the y'] }]);
    const props = out['properties'] as Record<string, Record<string, unknown>>;
    expect([props['x']!['description'], props['y']!['description']]).toEqual(['the x', 'the y']);
    expect(shared).toEqual({ type: 'string' });
  });
  it('fails on a field without words, on empty words, on words for no field, and on a field described twice', () => {
    expect(() => describeFields(schema, [{ a: ['text', 'the a'], b: ['mapping', 'the b'] }])).toThrow(/without words .*: b\.c/);
    expect(() => describeFields(schema, [{ a: ['text', 'the a'], b: ['mapping', 'the b'], 'b.c': ['number', ' '] }])).toThrow(/without words .*: b\.c/);
    expect(() => describeFields(schema, [{ a: ['text', 'the a'], b: ['mapping', 'the b'], 'b.c': ['number', 'c'], 'b.d': ['x', 'y'] }])).toThrow(
      /for fields the schema does not have: b\.d/,
    );
    expect(() => describeFields(schema, [{ a: ['text', 'the a'] }, { a: ['text', 'again'] }])).toThrow(/a is described twice/);
  });
  it('names each field once across the parts', () => {
    const names = FIELD_DOCS_PARTS.flatMap((p) => Object.keys(p));
    expect(new Set(names).size).toBe(names.length);
  });
});
