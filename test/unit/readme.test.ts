import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fieldPaths } from '../../src/recipe/fields.js';
import { recipeJsonSchema } from '../../src/recipe/json-schema.js';
import { ROOT } from '../support/cli.js';

const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');

describe('README', () => {
  it('the recipe reference covers every field of the schema', () => {
    const paths = fieldPaths(recipeJsonSchema());
    expect(paths.length).toBeGreaterThan(100);
    const missing = paths.filter((p) => !readme.includes(`| \`${p}\` |`));
    expect(missing).toEqual([]);
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
