import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/cli.js';

// The committed JSON Schema, read by a real JSON Schema validator (ajv, draft 2020-12, as editors'
// yaml-language-server reads it): every recipe in recipes/ and every good fixture is valid, and
// malformed ones the schema can judge alone are refused for the field the tool names.

const schema = JSON.parse(readFileSync(path.join(ROOT, 'schema', 'recipe.schema.json'), 'utf8')) as object;
const ajv = new Ajv2020({ strict: false, allErrors: true });
const validate = ajv.compile(schema);

function recipesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? recipesUnder(path.join(dir, e.name)) : e.name === 'recipe.yaml' ? [path.join(dir, e.name)] : [],
  );
}
const good = [...recipesUnder(path.join(ROOT, 'recipes')), ...recipesUnder(path.join(ROOT, 'test', 'fixtures', 'good'))]
  .map((p) => path.relative(ROOT, p))
  .sort();

describe('schema/recipe.schema.json through ajv (draft 2020-12)', () => {
  it('covers the built-ins and the examples', () => {
    expect(good.length).toBeGreaterThanOrEqual(10);
  });

  it.each(good)('%s is valid', (rel) => {
    const ok = validate(parse(readFileSync(path.join(ROOT, rel), 'utf8')));
    expect(validate.errors ?? [], rel).toEqual([]);
    expect(ok).toBe(true);
  });

  it.each([
    ['an unknown key', { backend: { entrypoint: ['x'], entrypiont: ['y'] } }, '/backend'],
    ['a relative import path', { imports: [{ image: 'devel', paths: ['usr/bin/x'] }] }, '/imports/0/paths/0'],
    [
      'a per-architecture digest for an unknown architecture',
      { engine: { framework: 'custom', version: '1.0.0', binary: { path: 'bin/{arch}/e', sha256: { riscv64: 'a'.repeat(64) }, installPath: '/e' } } },
      '/engine/binary/sha256',
    ],
    ['a tag condition with an unknown axis', { publish: { tags: [{ tag: '{version}', when: { platform: 'linux/amd64' } }] } }, '/publish/tags/0'],
    [
      'a secret id with a space',
      { dynamo: '1.1.1', dynamoSource: { index: { url: 'https://pypi.org/simple', secret: 'my secret' } } },
      '/dynamoSource/index/secret',
    ],
  ])('refuses %s', (_what, patch, where) => {
    const base = parse(readFileSync(path.join(ROOT, 'recipes/examples/echo-binary/recipe.yaml'), 'utf8')) as Record<string, unknown>;
    const doc = { ...base, ...patch, backend: { ...(base.backend as object), ...((patch as { backend?: object }).backend ?? {}) } };
    expect(validate(doc)).toBe(false);
    expect(validate.errors!.some((e) => e.instancePath.startsWith(where))).toBe(true);
  });
});
